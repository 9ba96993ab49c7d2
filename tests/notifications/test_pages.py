"""The Health, Schedule, Webhooks, delivery log and email preference pages in the test client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cloudmsp.cloud.models import CheckTrigger, Health, HealthCheck
from cloudmsp.notifications.models import DeliveryState, EmailOptOut, Webhook, WebhookDelivery
from cloudmsp.notifications.services import webhook_create
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _role(tenant, account_id: str, health: str, since=None, message="") -> object:
    return CloudAccountFactory(
        tenant=tenant,
        account_id=account_id,
        name=f"acct-{account_id[-2:]}",
        role_arn=f"arn:aws:iam::{account_id}:role/CloudMSPAccess",
        health=health,
        health_since=since,
        last_validation_message=message,
    )


def test_the_health_page_lists_broken_roles_first_with_what_broke(admin_client, admin):
    now = timezone.now()
    _role(admin.tenant, "100000000001", Health.HEALTHY, now)
    _role(admin.tenant, "100000000002", Health.BROKEN, now - dt.timedelta(hours=2), "AssumeRole failed: denied")
    _role(admin.tenant, "100000000003", Health.UNKNOWN)
    CloudAccountFactory(tenant=admin.tenant, account_id="100000000004")  # no role: not listed
    html = admin_client.get(reverse("cloud:health")).content.decode()
    order = [html.index(n) for n in ("100000000002", "100000000001", "100000000003")]
    assert order == sorted(order)
    assert "100000000004" not in html
    assert "Broken since" in html
    assert "AssumeRole failed: denied" in html
    assert "<strong>1</strong> broken" in html
    only = admin_client.get(reverse("cloud:health"), {"health": "healthy"}, **HTMX).content.decode()
    assert "100000000001" in only
    assert "100000000002" not in only
    none = admin_client.get(reverse("cloud:health"), {"q": "nothing-like-this"}, **HTMX).content.decode()
    assert "No account matches" in none


def test_an_accounts_health_page_shows_its_timeline(admin_client, admin):
    account = _role(admin.tenant, "100000000009", Health.BROKEN, timezone.now())
    now = timezone.now()
    for minutes, ok, was in ((90, True, Health.UNKNOWN), (60, True, ""), (30, False, Health.HEALTHY)):
        HealthCheck.unscoped.create(
            tenant=admin.tenant,
            account=account,
            checked_at=now - dt.timedelta(minutes=minutes),
            ok=ok,
            step="" if ok else "AssumeRole",
            message="denied" if not ok else "works",
            trigger=CheckTrigger.SCHEDULED,
            changed_from=was,
        )
    html = admin_client.get(reverse("cloud:account_health", kwargs={"account_id": account.pk})).content.decode()
    timeline = html[html.index("<h2>Timeline</h2>") : html.index("<h2>Recent checks</h2>")]
    assert timeline.count("<li>") == 2  # the two changes, not the check in between
    assert "AssumeRole: denied" in timeline
    assert html.count("<tr>") == 4  # three checks and the header


def test_the_schedule_page_changes_the_intervals_and_refuses_nonsense(admin_client, admin):
    url = reverse("cloud:schedule")
    assert "Validate every role every" in admin_client.get(url).content.decode()
    ok = admin_client.post(
        url, {"sync_interval_minutes": "60", "validation_interval_minutes": "5", "check_retention_days": "30"}
    )
    assert ok.status_code == 200
    assert "Schedule saved." in ok.content.decode()
    admin.tenant.refresh_from_db()
    assert (admin.tenant.sync_interval_minutes, admin.tenant.validation_interval_minutes) == (60, 5)
    bad = admin_client.post(
        url, {"sync_interval_minutes": "0", "validation_interval_minutes": "x", "check_retention_days": "30"}
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.content.decode()
    admin.tenant.refresh_from_db()
    assert admin.tenant.sync_interval_minutes == 60


def test_creating_a_webhook_shows_its_secret_once(admin_client):
    created = admin_client.post(
        reverse("notifications:webhook_create"),
        {"url": "https://hooks.example.com/in", "events": ["role.broken", "sync.failed"], "enabled": "on"},
        **HTMX,
    )
    assert created.status_code == 200
    webhook = Webhook.unscoped.get()
    html = created.content.decode()
    assert webhook.secret in html
    assert "it is not shown again" in html
    assert webhook.events == ["role.broken", "sync.failed"]
    detail = admin_client.get(reverse("notifications:webhook_detail", kwargs={"webhook_id": webhook.pk}))
    assert webhook.secret not in detail.content.decode()


def test_a_refused_url_is_explained_next_to_the_field(admin_client):
    refused = admin_client.post(
        reverse("notifications:webhook_create"), {"url": "http://169.254.169.254/latest/"}, **HTMX
    )
    assert refused.status_code == 422
    assert "link-local" in refused.content.decode()
    assert not Webhook.unscoped.exists()


def test_the_test_button_and_the_delivery_log(admin_client, admin):
    webhook, _ = webhook_create(actor=admin, url="https://hooks.example.com/in")
    sent = admin_client.post(reverse("notifications:webhook_test", kwargs={"webhook_id": webhook.pk}), **HTMX)
    assert sent.status_code == 200
    assert "Test event sent" in sent.content.decode()
    delivery = WebhookDelivery.unscoped.get()
    log = admin_client.get(reverse("notifications:deliveries")).content.decode()
    assert str(delivery.event.event_id) in log
    assert "Pending" in log
    WebhookDelivery.unscoped.filter(pk=delivery.pk).update(
        state=DeliveryState.FAILED, status_code=502, attempted_at=timezone.now()
    )
    again = admin_client.post(reverse("notifications:delivery_resend", kwargs={"delivery_id": delivery.pk}), **HTMX)
    assert "Sent again" in again.content.decode()
    assert WebhookDelivery.unscoped.count() == 2
    empty = admin_client.get(reverse("notifications:deliveries"), {"state": "succeeded"}).content.decode()
    assert "No delivery matches" in empty


def test_email_preferences_opt_out_per_kind(admin_client, admin):
    url = reverse("notifications:preferences")
    page = admin_client.get(url).content.decode()
    assert page.count('type="checkbox"') == 7
    assert page.count("checked") == 7
    saved = admin_client.post(url, {"kinds": ["role.broken", "role.recovered"]})
    assert "saved" in saved.content.decode()
    assert set(EmailOptOut.unscoped.filter(user=admin).values_list("kind", flat=True)) == {
        "account.suspended",
        "account.closed",
        "account.removed",
        "account.discovered",
        "sync.failed",
    }
    bad = admin_client.post(url, {"kinds": ["role.broken", "<script>"]})
    assert bad.status_code == 422
    assert EmailOptOut.unscoped.filter(user=admin).count() == 5


def test_the_health_page_links_the_latest_scheduled_check(admin_client, admin):
    from cloudmsp.cloud.models import Job, JobKind, JobState

    job = Job.unscoped.create(
        tenant=admin.tenant,
        kind=JobKind.VALIDATE,
        state=JobState.SUCCEEDED,
        total=3,
        done=3,
        params={"scheduled": True},
        result={"checked": 3, "ok": 2, "failed": 1},
    )
    # A bulk validation an administrator started later is not the scheduled check.
    bulk = Job.unscoped.create(
        tenant=admin.tenant, kind=JobKind.VALIDATE, state=JobState.SUCCEEDED, params={"bulk": True, "accounts": []}
    )
    html = admin_client.get(reverse("cloud:health")).content.decode()
    assert reverse("cloud:job", kwargs={"job_id": job.pk}) in html
    assert reverse("cloud:job", kwargs={"job_id": bulk.pk}) not in html
    assert "every 6 hours" in html
    page = admin_client.get(reverse("cloud:job", kwargs={"job_id": job.pk})).content.decode()
    assert "3 role(s) checked, 2 working, 1 failing" in page


def test_without_javascript_the_secret_is_shown_once_after_the_redirect(admin_client):
    created = admin_client.post(reverse("notifications:webhook_create"), {"url": "https://hooks.example.com/nojs"})
    assert created.status_code == 303
    webhook = Webhook.unscoped.get()
    first = admin_client.get(created["Location"])
    assert webhook.secret in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    again = admin_client.get(created["Location"])
    assert webhook.secret not in again.content.decode()


def test_an_accounts_page_shows_who_owned_it(admin_client, admin):
    from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate
    from tests.factories import CustomerFactory

    account = _role(admin.tenant, "100000000077", Health.HEALTHY, timezone.now())
    page = reverse("cloud:account_health", kwargs={"account_id": account.pk})
    assert "never been assigned" in admin_client.get(page).content.decode()
    accounts_associate(
        actor=admin, customer=CustomerFactory(tenant=admin.tenant, company_name="Acme"), account_ids=[account.pk]
    )
    accounts_disassociate(actor=admin, account_ids=[account.pk])
    html = admin_client.get(page).content.decode()
    history = html[html.index("<h2>Ownership history</h2>") :]
    assert "Acme" in history
    assert admin.email in history
