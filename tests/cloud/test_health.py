"""Role health end to end (SPEC 9): a role deleted in the emulator is found broken by the next
scheduled check, run by the real task worker; one email and one signed webhook delivery follow;
its recovery is announced the same way. Checks are kept, and pruned keeping state changes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from cloudmsp.cloud.models import CheckTrigger, CloudAccount, Health, HealthCheck, Job, JobKind, JobState
from cloudmsp.cloud.providers.aws import client as aws_client
from cloudmsp.cloud.services.accounts import account_validate
from cloudmsp.cloud.services.health import health_checks_prune
from cloudmsp.cloud.services.schedule import scheduler_tick
from cloudmsp.notifications.models import DeliveryState, Event, WebhookDelivery
from cloudmsp.notifications.services import verify, webhook_create
from tests.cloud.conftest import PORTAL_ROLE, boto, create_portal_role

pytestmark = pytest.mark.django_db


def _delete_role(endpoint: str, account_id: str, name: str = PORTAL_ROLE) -> None:
    iam = boto(endpoint, "iam", account_id)
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def _scheduled_check(time_machine, commit, run_tasks, hours: float) -> None:
    time_machine.move_to(timezone.now() + dt.timedelta(hours=hours), tick=False)
    with commit():
        tick = scheduler_tick()
    assert tick.validations, "the role should be due"
    for _ in range(3):  # the validation job, then the deliveries and the email it announced
        run_tasks()


def test_a_deleted_role_is_found_broken_and_announced_once(
    management, org, admin, receiver, run_tasks, commit, time_machine
):
    assert management.health == Health.HEALTHY  # the connect's check
    # Synced lately: only the validation is due in this test.
    Job.unscoped.create(tenant=admin.tenant, kind=JobKind.SYNC, account=management, state=JobState.SUCCEEDED)
    webhook, secret = webhook_create(actor=admin, url=receiver.url)
    _delete_role(org.endpoint, org.management_id)

    time_machine.move_to(timezone.now(), tick=False)
    _scheduled_check(time_machine, commit, run_tasks, hours=6.1)

    management.refresh_from_db()
    assert management.health == Health.BROKEN
    assert management.health_since == timezone.now()
    check = HealthCheck.unscoped.filter(account=management).first()
    assert check is not None
    assert (check.ok, check.trigger, check.changed_from) == (False, CheckTrigger.SCHEDULED, Health.HEALTHY)
    assert check.step
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin.email]
    assert "A role broke" in mail.outbox[0].subject
    (got,) = receiver.received
    assert verify(secret, got.headers["X-Cloudmsp-Signature"], got.body)
    event = json.loads(got.body)
    assert event["type"] == "role.broken"
    assert event["account"] == {"id": management.pk, "account_id": management.account_id, "name": "Payer"}
    assert event["data"]["step"] == check.step
    assert WebhookDelivery.unscoped.get(webhook=webhook).state == DeliveryState.SUCCEEDED

    # Still broken at the next check: a check more, no new announcement.
    _scheduled_check(time_machine, commit, run_tasks, hours=6.1)
    assert HealthCheck.unscoped.filter(account=management).count() == 3
    assert len(mail.outbox) == 1
    assert len(receiver.received) == 1

    # The customer puts the role back: the next check finds it healthy, and says so.
    create_portal_role(org.endpoint, org.management_id, management.external_id)
    _scheduled_check(time_machine, commit, run_tasks, hours=6.1)
    management.refresh_from_db()
    assert management.health == Health.HEALTHY
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["role.broken", "role.recovered"]
    assert len(mail.outbox) == 2


def test_a_manual_validation_is_a_check_too(management, admin):
    result = account_validate(actor=admin, account=management)
    assert result.ok
    latest = HealthCheck.unscoped.filter(account=management).first()
    assert latest is not None
    assert latest.trigger == CheckTrigger.MANUAL
    assert latest.ok
    assert latest.changed_from == ""  # healthy before and after
    assert HealthCheck.unscoped.filter(account=management).count() == 2  # the connect's, this one


def test_a_sync_that_fails_is_announced(management, org, admin, receiver, run_tasks, commit):
    webhook_create(actor=admin, url=receiver.url, events=["sync.failed"])
    _delete_role(org.endpoint, org.management_id)
    aws_client.credential_cache.clear()  # the sessions of the deleted role end (on AWS: its permissions go)
    from cloudmsp.cloud.services.sync import sync_start

    with commit():
        sync_start(actor=admin, account=management)
    for _ in range(3):
        run_tasks()
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["sync.failed"]
    assert Event.unscoped.filter(type="sync.failed").count() == 1


def test_pruning_keeps_state_changes_and_the_latest_check(admin):
    from tests.factories import CloudAccountFactory

    account = CloudAccountFactory(tenant=admin.tenant, role_arn="arn:aws:iam::100000000001:role/X")
    now = timezone.now()

    def check(days_ago: int, ok: bool, changed_from: str = "") -> HealthCheck:
        return HealthCheck.unscoped.create(
            tenant=admin.tenant,
            account=account,
            checked_at=now - dt.timedelta(days=days_ago),
            ok=ok,
            trigger=CheckTrigger.SCHEDULED,
            changed_from=changed_from,
        )

    change = check(200, ok=False, changed_from=Health.HEALTHY)
    old = [check(d, ok=False) for d in (150, 120, 100)]
    recent = check(10, ok=False)
    assert health_checks_prune(tenant_id=admin.tenant_id, retention_days=90, now=now) == len(old)
    assert set(HealthCheck.unscoped.values_list("pk", flat=True)) == {change.pk, recent.pk}
    lonely = CloudAccountFactory(tenant=admin.tenant)
    last = HealthCheck.unscoped.create(
        tenant=admin.tenant, account=lonely, checked_at=now - dt.timedelta(days=400), ok=True, trigger="manual"
    )
    assert health_checks_prune(tenant_id=admin.tenant_id, retention_days=90, now=now) == 0
    assert HealthCheck.unscoped.filter(pk=last.pk).exists()
    assert CloudAccount.unscoped.filter(pk=lonely.pk).exists()


def test_a_check_compares_with_the_health_stored_now_not_when_it_started(management, org, admin):
    """A manual check found the role broken while a scheduled batch was under way: the batch,
    holding the account as it was (healthy), announces nothing again and keeps "broken since"."""
    from cloudmsp.cloud.services.bulk import validate_many
    from cloudmsp.notifications.models import Event

    stale = CloudAccount.unscoped.get(pk=management.pk)  # healthy, as the batch loaded it
    _delete_role(org.endpoint, org.management_id)
    aws_client.credential_cache.clear()
    assert not account_validate(actor=admin, account=management).ok  # the manual check: broken
    management.refresh_from_db()
    since = management.health_since
    assert Event.unscoped.filter(type="role.broken").count() == 1

    validate_many(actor=admin, accounts=[stale])
    management.refresh_from_db()
    assert (management.health, management.health_since) == (Health.BROKEN, since)
    assert Event.unscoped.filter(type="role.broken").count() == 1


def test_a_role_removed_during_a_manual_check_stays_removed(management, admin, monkeypatch):
    from cloudmsp.cloud.providers.aws.provider import AwsProvider

    real = AwsProvider.check_role

    def removed_meanwhile(self, **kwargs):
        result = real(self, **kwargs)
        CloudAccount.unscoped.filter(pk=management.pk).update(role_arn="", onboarding_status="not_onboarded")
        return result

    monkeypatch.setattr(AwsProvider, "check_role", removed_meanwhile)
    before = HealthCheck.unscoped.filter(account=management).count()
    account_validate(actor=admin, account=management)
    management.refresh_from_db()
    assert (management.role_arn, management.onboarding_status) == ("", "not_onboarded")
    assert HealthCheck.unscoped.filter(account=management).count() == before


def test_an_interrupted_sync_is_announced(management, admin, receiver, run_tasks, commit):
    from cloudmsp.cloud.services.jobs import job_interrupt
    from tests.cloud.conftest import age_job

    webhook_create(actor=admin, url=receiver.url, events=["sync.failed"])
    job = Job.unscoped.create(tenant=admin.tenant, kind=JobKind.SYNC, account=management, state=JobState.RUNNING)
    age_job(job)
    with commit():
        assert job_interrupt(job)
    run_tasks()
    (got,) = receiver.received
    assert json.loads(got.body)["data"]["job"] == job.pk
