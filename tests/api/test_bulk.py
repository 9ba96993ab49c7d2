"""The API's bulk actions on "all accounts matching a filter" (associate, disassociate,
bulk-validate, bulk-onboard) and `POST /jobs/{id}/retry/`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount, Job, JobKind, JobState, OwnershipInterval
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db


def post(client, path, body=None):
    return client.post(url(path), body, format="json")


@pytest.fixture
def prod(tenant):
    return CloudAccountFactory.create_batch(6, tenant=tenant, ou_path="Root/Prod", name="prod")


def test_associate_all_matching_a_filter(admin_api, tenant, customer, prod):
    dev = CloudAccountFactory(tenant=tenant, ou_path="Root/Dev", name="dev")
    response = post(admin_api, "cloud-accounts/associate/", {"customer": customer.pk, "filter": {"ou": "Root/Prod"}})
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 6}
    linked = CloudAccount.objects.for_tenant(tenant).filter(customer=customer)
    assert set(linked.values_list("pk", flat=True)) == {a.pk for a in prod}
    dev.refresh_from_db()
    assert dev.customer_id is None
    assert OwnershipInterval.objects.for_tenant(tenant).filter(customer=customer, cause="bulk").count() == 6
    # The list's search is part of the filter, as `search`.
    response = post(admin_api, "cloud-accounts/disassociate/", {"filter": {"search": "prod", "customer": customer.pk}})
    assert response.json() == {"changed": 6}
    assert not CloudAccount.objects.for_tenant(tenant).filter(customer=customer).exists()


def test_all_matching_is_a_fixed_number_of_statements(admin_api, tenant, customer):
    CloudAccountFactory.create_batch(3, tenant=tenant, ou_path="Root/Small")
    CloudAccountFactory.create_batch(300, tenant=tenant, ou_path="Root/Large")
    counts = []
    for ou in ("Root/Small", "Root/Large"):
        with CaptureQueriesContext(connection) as ctx:
            response = post(admin_api, "cloud-accounts/associate/", {"customer": customer.pk, "filter": {"ou": ou}})
        assert response.status_code == 200, response.content
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"accounts": [1], "filter": {}},
        {"filter": {"kind": "bogus"}},
        {"filter": {"customer": "someone"}},
        {"filter": {"search": 5}},
        {"filter": "ou=Root"},
    ],
    ids=["neither", "both", "bad-kind", "bad-customer", "search-not-text", "not-an-object"],
)
def test_a_selection_is_ids_or_a_valid_filter(admin_api, tenant, customer, prod, body):
    response = post(admin_api, "cloud-accounts/associate/", {"customer": customer.pk, **body})
    assert_error(response, 400)
    assert not CloudAccount.objects.for_tenant(tenant).filter(customer__isnull=False).exists()


def test_a_filter_cannot_reach_another_tenants_accounts(admin_api, tenant, customer):
    other = TenantFactory()
    theirs = CustomerFactory(tenant=other)
    parent = CloudAccountFactory(tenant=other, kind="management", category="msp")
    CloudAccountFactory.create_batch(2, tenant=other, kind="member", category="msp", parent=parent, customer=theirs)
    before = list(CloudAccount.unscoped.order_by("pk").values_list("pk", "customer_id"))
    for flt in ({"parent": parent.pk}, {"customer": theirs.pk}):
        body = assert_error(post(admin_api, "cloud-accounts/associate/", {"customer": customer.pk, "filter": flt}), 400)
        assert body["errors"] == {"accounts": ["No account matches this filter."]}
        assert_error(post(admin_api, "cloud-accounts/disassociate/", {"filter": flt}), 400)
        assert_error(post(admin_api, "cloud-accounts/bulk-validate/", {"filter": flt}), 400)
    assert list(CloudAccount.unscoped.order_by("pk").values_list("pk", "customer_id")) == before
    assert not Job.unscoped.exists()


def test_bulk_validate_starts_a_job_for_the_matching_accounts(
    admin_api, tenant, prod, django_capture_on_commit_callbacks
):
    response = post(admin_api, "cloud-accounts/bulk-validate/", {"filter": {"ou": "Root/Prod"}})
    assert response.status_code == 202, response.content
    job = Job.objects.for_tenant(tenant).get(pk=response.json()["id"])
    assert response["Location"] == url(f"jobs/{job.pk}/")
    assert (job.kind, job.total, job.params["accounts"]) == (JobKind.VALIDATE, 6, sorted(a.pk for a in prod))
    assert AuditEvent.objects.for_tenant(tenant).filter(action="cloud_account.bulk_validate_start").count() == 1


def test_bulk_onboard_keeps_the_role_name(admin_api, tenant, prod):
    body = {"accounts": [prod[0].pk, prod[1].pk], "role_name": "BulkRole"}
    response = post(admin_api, "cloud-accounts/bulk-onboard/", body)
    assert response.status_code == 202, response.content
    job = Job.objects.for_tenant(tenant).get(pk=response.json()["id"])
    assert (job.kind, job.params["role_name"], job.total) == (JobKind.ONBOARD, "BulkRole", 2)
    assert_error(post(admin_api, "cloud-accounts/bulk-onboard/", {**body, "role_name": "no spaces"}), 400)


def test_customer_users_cannot_start_bulk_jobs(customer_api, customer, tenant):
    own = CloudAccountFactory(tenant=tenant, customer=customer)
    assert_error(post(customer_api, "cloud-accounts/bulk-validate/", {"accounts": [own.pk]}), 403)
    assert_error(post(customer_api, "cloud-accounts/bulk-onboard/", {"filter": {}}), 403)
    assert not Job.unscoped.exists()


def test_retry_starts_a_job_for_only_the_failed_accounts(admin_api, tenant, prod):
    done = Job.objects.create(
        tenant=tenant,
        kind=JobKind.VALIDATE,
        state=JobState.SUCCEEDED,
        params={"bulk": True, "accounts": [a.pk for a in prod[:3]]},
        result={
            "checked": 3,
            "ok": 1,
            "failed": 2,
            "accounts": [
                {"id": prod[0].pk, "ok": True},
                {"id": prod[1].pk, "ok": False},
                {"id": prod[2].pk, "ok": False},
            ],
        },
    )
    response = post(admin_api, f"jobs/{done.pk}/retry/")
    assert response.status_code == 202, response.content
    retry = Job.objects.for_tenant(tenant).get(pk=response.json()["id"])
    assert retry.params == {"bulk": True, "accounts": [prod[1].pk, prod[2].pk], "retry_of": done.pk}
    # The job answers its per-account result as it was stored.
    body = admin_api.get(url(f"jobs/{done.pk}/")).json()
    assert [e["ok"] for e in body["result"]["accounts"]] == [True, False, False]


def test_retry_of_a_job_with_nothing_to_retry_is_refused(admin_api, tenant):
    sync = Job.objects.create(tenant=tenant, kind=JobKind.SYNC, state=JobState.SUCCEEDED)
    assert_error(post(admin_api, f"jobs/{sync.pk}/retry/"), 400)
    foreign = Job.objects.create(tenant=TenantFactory(), kind=JobKind.VALIDATE, state=JobState.SUCCEEDED)
    assert_error(post(admin_api, f"jobs/{foreign.pk}/retry/"), 404)
