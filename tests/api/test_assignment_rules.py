"""`/api/v1/assignment-rules/` (SPEC 10): CRUD, preview and apply."""

from __future__ import annotations

import pytest

from cloudmsp.cloud.models import AssignmentRule, Category, CloudAccount, JobKind, JobState, Kind
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(admin):
    management = CloudAccountFactory(tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT)
    return [
        CloudAccountFactory(
            tenant=admin.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=management, ou_path=path, name=name
        )
        for path, name in [("Root/Production", "web"), ("Root/Production/Data", "db"), ("Root/Dev", "dev")]
    ]


def test_create_list_update_and_delete(admin_api, admin):
    customer = CustomerFactory(tenant=admin.tenant, company_name="Acme")
    created = admin_api.post(
        url("assignment-rules/"),
        {"name": "Production", "customer": customer.pk, "ou_path_prefix": "Root/Production"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["priority"], body["enabled"], body["override_manual"], body["customer_name"]) == (
        100,
        True,
        False,
        "Acme",
    )
    listed = admin_api.get(url("assignment-rules/")).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    patched = admin_api.patch(url(f"assignment-rules/{body['id']}/"), {"priority": 3}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["priority"] == 3
    assert patched.json()["ou_path_prefix"] == "Root/Production"  # a PATCH keeps the other fields
    assert admin_api.delete(url(f"assignment-rules/{body['id']}/")).status_code == 204
    assert not AssignmentRule.objects.for_tenant(admin.tenant).exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "x"}, {"customer"}),
        ({"name": "x", "customer": "abc", "name_glob": "*"}, {"customer"}),
        ({"name": "x", "customer": 10**15, "name_glob": "*"}, {"customer"}),
        ({"name": "x", "customer": "CUSTOMER", "priority": -1, "name_glob": "*"}, {"priority"}),
        ({"name": "x", "customer": "CUSTOMER"}, {"non_field_errors"}),
        ({"name": "x", "customer": "CUSTOMER", "email_domain": "'; DROP TABLE x; --"}, {"email_domain"}),
        ({"name": "x" * 500, "customer": "CUSTOMER", "name_glob": "*"}, {"name"}),
        ({"name": "x", "customer": "CUSTOMER", "management_account": "1 OR 1=1"}, {"management_account"}),
        ({"name": "x", "customer": "CUSTOMER", "tag_value": "v"}, {"tag_key"}),
    ],
)
def test_bad_rules_get_an_error_on_their_field(admin_api, admin, payload, fields):
    customer = CustomerFactory(tenant=admin.tenant)
    payload = {k: customer.pk if v == "CUSTOMER" else v for k, v in payload.items()}
    for path in ("assignment-rules/", "assignment-rules/preview/"):
        assert_error(admin_api.post(url(path), payload, format="json"), 400, *fields)
    assert not AssignmentRule.objects.for_tenant(admin.tenant).exists()


def test_a_foreign_customer_reads_as_missing(admin_api):
    foreign = CustomerFactory(tenant=TenantFactory())
    body = assert_error(
        admin_api.post(
            url("assignment-rules/"), {"name": "x", "customer": foreign.pk, "name_glob": "*"}, format="json"
        ),
        400,
        "customer",
    )
    assert body["errors"]["customer"] == ["Customer not found."]


def test_a_tenant_id_in_the_body_is_ignored(admin_api, admin):
    customer = CustomerFactory(tenant=admin.tenant)
    other = TenantFactory()
    created = admin_api.post(
        url("assignment-rules/"),
        {"name": "x", "customer": customer.pk, "name_glob": "*", "tenant": other.pk, "tenant_id": other.pk},
        format="json",
    )
    assert created.status_code == 201
    assert AssignmentRule.unscoped.get(pk=created.json()["id"]).tenant_id == admin.tenant_id


def test_preview_answers_counts_and_a_sample_and_saves_nothing(admin_api, admin, accounts):
    customer = CustomerFactory(tenant=admin.tenant)
    answer = admin_api.post(
        url("assignment-rules/preview/"),
        {"name": "p", "customer": customer.pk, "ou_path_prefix": "Root/Production"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["matched"], body["would_change"]) == (2, 2)
    assert {s["name"] for s in body["sample"]} == {"web", "db"}
    assert set(body["sample"][0]) == {"id", "account_id", "name", "ou_path", "customer", "customer_name"}
    assert not AssignmentRule.objects.for_tenant(admin.tenant).exists()
    assert not CloudAccount.objects.for_tenant(admin.tenant).filter(customer__isnull=False).exists()


def test_apply_answers_202_with_a_job_that_assigns(admin_api, admin, accounts, run_tasks, commit):
    customer = CustomerFactory(tenant=admin.tenant)
    rule = admin_api.post(
        url("assignment-rules/"),
        {"name": "p", "customer": customer.pk, "ou_path_prefix": "Root/Production"},
        format="json",
    ).json()
    with commit():
        answer = admin_api.post(url(f"assignment-rules/{rule['id']}/apply/"))
    assert answer.status_code == 202, answer.content
    job = answer.json()
    assert (job["kind"], job["state"]) == (JobKind.APPLY_RULE, JobState.QUEUED)
    assert answer["Location"] == url(f"jobs/{job['id']}/")
    run_tasks()
    done = admin_api.get(url(f"jobs/{job['id']}/")).json()
    assert done["state"] == JobState.SUCCEEDED
    assert done["result"] == {"rule": rule["id"], "matched": 2, "changed": 2}
    assert {a.name for a in CloudAccount.objects.for_tenant(admin.tenant).filter(customer=customer)} == {"web", "db"}
