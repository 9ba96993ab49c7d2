"""`/api/v1/ownership/` and `/api/v1/cloud-accounts/{id}/ownership/` (SPEC 10)."""

from __future__ import annotations

import datetime as dt

import pytest

from cloudmsp.cloud.services.association import accounts_associate
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def test_who_owned_what_on_a_day_and_over_a_period(admin, admin_api, time_machine):
    acme = CustomerFactory(tenant=admin.tenant, company_name="=HYPERLINK(evil)")
    globex = CustomerFactory(tenant=admin.tenant, company_name="Globex")
    account = CloudAccountFactory(tenant=admin.tenant, account_id="100000000042")
    time_machine.move_to(T0, tick=False)
    accounts_associate(actor=admin, customer=acme, account_ids=[account.pk])
    time_machine.move_to(T0 + dt.timedelta(days=3), tick=False)
    accounts_associate(actor=admin, customer=globex, account_ids=[account.pk])

    def owners(**params):
        body = admin_api.get(url("ownership/"), params).json()
        return [r["customer_name"] for r in body["results"]]

    assert owners(at="2026-11-02") == ["=HYPERLINK(evil)"]
    assert owners(at="2026-11-04") == ["=HYPERLINK(evil)", "Globex"]  # changed owner that day
    assert owners(at="2026-11-10") == ["Globex"]
    assert owners(at="2026-10-01") == []
    assert owners(**{"from": "2026-10-01", "to": "2026-11-30"}) == ["=HYPERLINK(evil)", "Globex"]
    csv = admin_api.get(url("ownership/"), {"from": "2026-10-01", "to": "2026-11-30", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    from cloudmsp.tenancy import rls

    # Read as a web server streams it, after the view's scope has ended: the middleware keeps the
    # stream in the request's scope (row-level security on PostgreSQL).
    with rls.empty_scope():
        text = b"".join(csv.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0] == "account_id,account_name,customer,customer_name,valid_from,valid_to,cause,actor"
    assert "'=HYPERLINK(evil)" in lines[1]
    assert len(lines) == 3
    history = admin_api.get(url(f"cloud-accounts/{account.pk}/ownership/")).json()
    assert [r["customer_name"] for r in history["results"]] == ["Globex", "=HYPERLINK(evil)"]
    assert history["results"][0]["valid_to"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"at": "yesterday"},
        {"at": "2026-13-01"},
        {"from": "2026-11-01"},
        {"from": "2026-11-05", "to": "2026-11-01"},
        {"from": "1900-01-01", "to": "2026-01-01"},
        {"at": "9999-12-31"},
        {"at": "0001-01-01"},
    ],
)
def test_bad_dates_are_a_400_in_json_even_when_csv_is_asked(admin_api, params):
    assert_error(admin_api.get(url("ownership/"), params), 400)
    assert_error(admin_api.get(url("ownership/"), {**params, "format": "csv"}), 400)


def test_customer_users_read_no_ownership(customer_api, customer_user):
    account = CloudAccountFactory(tenant=customer_user.tenant, customer=customer_user.customer)
    assert customer_api.get(url("ownership/")).status_code == 403
    assert customer_api.get(url(f"cloud-accounts/{account.pk}/ownership/")).status_code == 403
