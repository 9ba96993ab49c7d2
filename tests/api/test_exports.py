"""CSV exports of the lists (SPEC 10): `GET /api/v1/cloud-accounts/?format=csv` and
`/customers/?format=csv` stream every row the filter selects, not a page, neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from cloudmsp.cloud.models import Category, Kind
from cloudmsp.tenancy import rls
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.streaming
    # Read as a web server streams it, after the view has returned.
    with rls.empty_scope():
        text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_every_page_of_what_the_filter_shows(admin, admin_api, customer):
    CloudAccountFactory.create_batch(120, tenant=admin.tenant, customer=customer)
    CloudAccountFactory.create_batch(3, tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT)
    CloudAccountFactory.create_batch(2, customer=CustomerFactory())  # another tenant's
    rows = rows_of(admin_api.get(url("cloud-accounts/"), {"format": "csv", "kind": "standalone", "page_size": 10}))
    assert len(rows) == 120
    assert {r["customer"] for r in rows} == {"Acme"}
    assert [r["account_id"] for r in rows] == sorted(r["account_id"] for r in rows)
    by_accept = admin_api.get(
        url("cloud-accounts/"), {"ordering": "-account_id", "kind": "standalone"}, HTTP_ACCEPT="text/csv"
    )
    assert [r["account_id"] for r in rows_of(by_accept)][:1] == [max(r["account_id"] for r in rows)]


def test_search_and_formula_cells_are_neutralised(admin, admin_api):
    evil = CustomerFactory(tenant=admin.tenant, company_name="=HYPERLINK(evil)", city="+1")
    CloudAccountFactory(tenant=admin.tenant, name="@SUM(A1)", customer=evil, account_id="100000000777")
    CloudAccountFactory(tenant=admin.tenant, name="plain")
    rows = rows_of(admin_api.get(url("cloud-accounts/"), {"format": "csv", "search": "sum("}))
    assert [(r["account_id"], r["name"], r["customer"]) for r in rows] == [
        ("100000000777", "'@SUM(A1)", "'=HYPERLINK(evil)")
    ]
    customers = rows_of(admin_api.get(url("customers/"), {"format": "csv", "search": "hyperlink"}))
    assert [(c["company_name"], c["city"], c["account_count"]) for c in customers] == [
        ("'=HYPERLINK(evil)", "'+1", "1")
    ]


def test_customer_users_export_only_what_they_see(customer_user, customer_api):
    mine = CloudAccountFactory(
        tenant=customer_user.tenant,
        customer=customer_user.customer,
        role_arn="arn:aws:iam::100000000000:role/SecretRole",
        external_id="cmsp-secret-external-id",
    )
    CloudAccountFactory(tenant=customer_user.tenant)
    CloudAccountFactory(tenant=customer_user.tenant, customer=CustomerFactory(tenant=customer_user.tenant))
    rows = rows_of(customer_api.get(url("cloud-accounts/"), {"format": "csv"}))
    assert [r["account_id"] for r in rows] == [mine.account_id]
    # What the JSON hides from a customer user, the CSV hides too.
    assert "role_arn" not in rows[0]
    assert not any("SecretRole" in value for value in rows[0].values())
    assert [r["company_name"] for r in rows_of(customer_api.get(url("customers/"), {"format": "csv"}))] == ["Acme"]


def test_errors_stay_json(admin_api, anon):
    assert_error(admin_api.get(url("cloud-accounts/"), {"format": "csv", "onboarding_status": "bogus"}), 400)
    assert_error(anon.get(url("cloud-accounts/"), {"format": "csv"}), 401)


def test_other_actions_asked_as_csv_answer_json(admin_api):
    created = admin_api.post(
        url("customers/") + "?format=csv",
        {"company_name": "Initech", "first_name": "Bill", "last_name": "L", "email": "b@i.test"},
        format="json",
    )
    assert created.status_code == 201
    assert created["Content-Type"].startswith("application/json")
    assert created.json()["company_name"] == "Initech"
