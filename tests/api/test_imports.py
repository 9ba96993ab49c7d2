"""`POST /api/v1/imports/assignments/` and `/imports/customers/` (SPEC 10)."""

from __future__ import annotations

import pytest

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.models import Customer
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

ASSIGN = url("imports/assignments/")
CUSTOMERS = url("imports/customers/")


def post(client, path, body: str | bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    data = body.encode() if isinstance(body, str) else body
    return client.generic("POST", f"{path}?{query}" if query else path, data, content_type="text/csv")


def test_dry_run_by_default_then_apply(admin, admin_api, customer):
    account = CloudAccountFactory(tenant=admin.tenant, account_id="100000000001")
    body = "account_id,customer\n100000000001,Acme\n"
    dry = post(admin_api, ASSIGN, body)
    assert dry.status_code == 200, dry.content
    assert dry.json() == {
        "applied": False,
        "created": 1,
        "changed": 0,
        "unchanged": 0,
        "samples": {
            "created": [{"line": 2, "account_id": "100000000001", "from": "", "to": "Acme"}],
            "changed": [],
            "unchanged": [],
        },
        "error_count": 0,
        "errors": [],
    }
    account.refresh_from_db()
    assert account.customer_id is None
    applied = post(admin_api, ASSIGN, body, dry_run="false")
    assert applied.json()["applied"] is True
    account.refresh_from_db()
    assert account.customer_id == customer.pk


def test_applying_a_file_with_errors_is_a_400_and_changes_nothing(admin, admin_api, customer):
    CloudAccountFactory(tenant=admin.tenant, account_id="100000000001")
    body = "account_id,customer\n100000000001,Acme\n100000000001,Acme\n"
    dry = post(admin_api, ASSIGN, body).json()
    assert dry["errors"] == [
        {"line": 3, "column": "account_id", "message": "account 100000000001 is already on line 2."}
    ]
    refused = assert_error(post(admin_api, ASSIGN, body, dry_run="false"), 400, "file")
    assert refused["errors"]["file"] == ["Line 3, account_id: account 100000000001 is already on line 2."]
    assert not CloudAccount.objects.for_tenant(admin.tenant).filter(customer__isnull=False).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"account_id,customer\n1,Caf\xe9\n", "not UTF-8"),
        (b"", "The file is empty"),
        (b"id,owner\n", "unknown column(s)"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_400_on_file(admin_api, body, message):
    body = assert_error(post(admin_api, ASSIGN, body), 400, "file")
    assert message in body["errors"]["file"][0]


def test_bad_dry_run_json_body_and_oversized_file(admin_api, settings):
    assert_error(post(admin_api, ASSIGN, "account_id,customer\n", dry_run="maybe"), 400, "dry_run")
    json_body = admin_api.post(ASSIGN, {"account_id": "1"}, format="json")
    assert json_body.status_code == 415
    assert json_body["Content-Type"].startswith("application/json")
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    assert_error(post(admin_api, ASSIGN, "account_id,customer\n" + "100000000001,Acme\n" * 70_000), 413)


def test_a_100000_line_file_is_read(admin, admin_api, customer):
    body = "account_id,customer\n" + "".join(f"{100000000000 + i},Acme\n" for i in range(100_000))
    dry = post(admin_api, ASSIGN, body)
    assert dry.status_code == 200
    assert dry.json()["error_count"] == 100_000  # none of these accounts exists
    assert len(dry.json()["errors"]) == 200


def test_customers_import(admin, admin_api):
    body = "company_name,first_name,last_name,email\nInitech,Bill,Lumbergh,bill@initech.test\n"
    assert post(admin_api, CUSTOMERS, body).json()["created"] == 1
    assert not Customer.objects.for_tenant(admin.tenant).exists()
    assert post(admin_api, CUSTOMERS, body, dry_run="false").json()["applied"] is True
    assert list(Customer.objects.for_tenant(admin.tenant).values_list("company_name", flat=True)) == ["Initech"]


def test_customer_users_and_system_administrators_are_refused(customer_api, sysadmin_api):
    for client in (customer_api, sysadmin_api):
        for path in (ASSIGN, CUSTOMERS):
            assert_error(post(client, path, "company_name\nX\n", dry_run="false"), 403)
    assert not Customer.objects.for_tenant(CustomerFactory().tenant).filter(company_name="X").exists()
