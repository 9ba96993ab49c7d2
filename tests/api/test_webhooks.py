"""`/api/v1/webhooks/`, `/api/v1/webhook-deliveries/`, `/api/v1/schedule/` and
`/api/v1/cloud-accounts/{id}/health/` (SPEC 9)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cloudmsp.cloud.models import CheckTrigger, Health, HealthCheck
from cloudmsp.notifications.models import DeliveryState, Webhook
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db


def test_a_webhook_is_created_with_its_secret_once(admin_api):
    created = admin_api.post(
        url("webhooks/"), {"url": "https://hooks.example.com/x", "events": ["role.broken"]}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["role.broken"]
    read = admin_api.get(url(f"webhooks/{body['id']}/")).json()
    assert "secret" not in read
    listed = admin_api.get(url("webhooks/")).json()
    assert [w["id"] for w in listed["results"]] == [body["id"]]
    assert "secret" not in listed["results"][0]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "http://169.254.169.254/latest/"}, "url"),
        ({"url": "https://10.0.0.1/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://ok.example.com/", "events": ["nope"]}, "events.0"),
        ({"url": "https://ok.example.com/", "events": "role.broken"}, "events"),
        ({"url": "x" * 5000}, "url"),
        ({}, "url"),
    ],
)
def test_bad_webhooks_are_refused_next_to_the_field(admin_api, payload, field):
    assert_error(admin_api.post(url("webhooks/"), payload, format="json"), 400, field)
    assert not Webhook.unscoped.exists()


def test_update_test_and_delete(admin_api, admin):
    pk = admin_api.post(url("webhooks/"), {"url": "https://hooks.example.com/x"}, format="json").json()["id"]
    patched = admin_api.patch(url(f"webhooks/{pk}/"), {"enabled": False, "events": ["sync.failed"]}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["enabled"], patched.json()["events"]) == (False, ["sync.failed"])
    assert_error(admin_api.patch(url(f"webhooks/{pk}/"), {"url": "https://192.168.0.1/"}, format="json"), 400, "url")
    tested = admin_api.post(url(f"webhooks/{pk}/test/"))
    assert tested.status_code == 202
    delivery = tested.json()
    assert (delivery["event_type"], delivery["state"], delivery["webhook"]) == ("test", DeliveryState.PENDING, pk)
    log = admin_api.get(url("webhook-deliveries/"), {"webhook": pk}).json()
    assert [d["id"] for d in log["results"]] == [delivery["id"]]
    assert_error(admin_api.post(url(f"webhook-deliveries/{delivery['id']}/resend/")), 400)  # not attempted yet
    assert_error(admin_api.get(url("webhook-deliveries/"), {"state": "bogus"}), 400, "state")
    assert admin_api.delete(url(f"webhooks/{pk}/")).status_code == 204
    assert not Webhook.unscoped.exists()


def test_the_schedule_reads_and_changes_within_bounds(admin_api, admin):
    assert admin_api.get(url("schedule/")).json() == {
        "sync_interval_minutes": 1440,
        "validation_interval_minutes": 360,
        "check_retention_days": 90,
    }
    changed = admin_api.patch(url("schedule/"), {"validation_interval_minutes": 15}, format="json")
    assert changed.status_code == 200
    admin.tenant.refresh_from_db()
    assert admin.tenant.validation_interval_minutes == 15
    assert_error(admin_api.patch(url("schedule/"), {"sync_interval_minutes": 0}, format="json"), 400)
    assert_error(admin_api.patch(url("schedule/"), {"check_retention_days": "soon"}, format="json"), 400)
    admin.tenant.refresh_from_db()
    assert admin.tenant.sync_interval_minutes == 1440


def test_an_accounts_checks_newest_first_and_customer_users_see_no_role(admin_api, api_for, admin):
    customer = CustomerFactory(tenant=admin.tenant)
    account = CloudAccountFactory(
        tenant=admin.tenant, customer=customer, role_arn="arn:aws:iam::100000000001:role/X", health=Health.BROKEN
    )
    now = timezone.now()
    for minutes, ok in ((30, True), (10, False)):
        HealthCheck.unscoped.create(
            tenant=admin.tenant,
            account=account,
            checked_at=now - timezone.timedelta(minutes=minutes),
            ok=ok,
            step="" if ok else "AssumeRole",
            message="denied" if not ok else "fine",
            role_arn=account.role_arn,
            trigger=CheckTrigger.SCHEDULED,
            changed_from="" if ok else Health.HEALTHY,
        )
    checks = admin_api.get(url(f"cloud-accounts/{account.pk}/health/")).json()
    assert [c["ok"] for c in checks["results"]] == [False, True]
    assert checks["results"][0]["state_change"] is True
    assert checks["results"][0]["role_arn"] == account.role_arn
    mine = api_for(CustomerUserFactory(customer=customer)).get(url(f"cloud-accounts/{account.pk}/health/")).json()
    assert "role_arn" not in mine["results"][0]
    assert "message" not in mine["results"][0]
    listed = admin_api.get(url("cloud-accounts/"), {"health": "broken"}).json()
    assert [a["id"] for a in listed["results"]] == [account.pk]
    assert_error(admin_api.get(url("cloud-accounts/"), {"health": "sick"}), 400, "health")


def test_options_on_the_schedule_answers(admin_api):
    assert admin_api.options(url("schedule/")).status_code == 200


def test_the_created_answer_is_not_cached(admin_api):
    created = admin_api.post(url("webhooks/"), {"url": "https://hooks.example.com/x"}, format="json")
    assert "no-store" in created["Cache-Control"]
