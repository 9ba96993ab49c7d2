"""The scheduler (SPEC 9): what is due comes from the database, with the time frozen
(time-machine), and several schedulers at once enqueue each piece of work once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.cloud.services.schedule import scheduler_tick
from tests.factories import CloudAccountFactory, TenantFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    """The time, frozen at NOW; clock(minutes=...) moves it on from NOW."""
    time_machine.move_to(NOW, tick=False)
    return lambda **delta: time_machine.move_to(NOW + dt.timedelta(**delta), tick=False)


@pytest.fixture
def tick(commit):
    """A scheduler tick whose enqueued tasks are handed to the worker's queue (committed)."""

    def run():
        with commit():
            return scheduler_tick()

    return run


NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
ARN = "arn:aws:iam::{}:role/CloudMSPAccess"


def _management(tenant, account_id: str, **extra) -> CloudAccount:
    values = {
        "role_arn": ARN.format(account_id),
        "onboarding_status": OnboardingStatus.ONBOARDED,
        "last_validated_at": NOW,
        **extra,
    }
    return CloudAccountFactory(
        tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id=account_id, **values
    )


def _role(tenant, account_id: str, validated: dt.datetime | None, **extra) -> CloudAccount:
    return CloudAccountFactory(
        tenant=tenant,
        account_id=account_id,
        role_arn=ARN.format(account_id),
        onboarding_status=OnboardingStatus.ONBOARDED,
        last_validated_at=validated,
        **extra,
    )


def _world():
    """Two tenants: one with its own intervals. Returns what is due at NOW."""
    a = TenantFactory(name="Alpha", validation_interval_minutes=60, sync_interval_minutes=24 * 60)
    b = TenantFactory(name="Bravo", validation_interval_minutes=6 * 60)
    _management(a, "100000000001")  # never synced: due
    synced = _management(a, "100000000002")  # synced an hour ago: not due
    Job.unscoped.create(tenant=a, kind=JobKind.SYNC, account=synced, state=JobState.SUCCEEDED)
    Job.unscoped.filter(account=synced).update(created_at=NOW - dt.timedelta(hours=1))
    _management(a, "100000000003", onboarding_status=OnboardingStatus.NOT_ONBOARDED, role_arn="")  # no role
    _role(a, "200000000001", NOW - dt.timedelta(minutes=61))  # due (interval 60 min)
    _role(a, "200000000002", None)  # never validated: due
    _role(a, "200000000003", NOW - dt.timedelta(minutes=30))  # validated recently
    _role(a, "200000000004", None, aws_state=AwsState.SUSPENDED)  # suspended: no usable role
    CloudAccountFactory(tenant=a, account_id="200000000005")  # no role at all
    _role(b, "300000000001", NOW - dt.timedelta(minutes=61))  # not due: Bravo checks every 6 hours
    return a, b


def test_a_tick_enqueues_exactly_what_is_due(tick):
    a, _b = _world()
    done = tick()
    assert done.acted
    syncs = Job.unscoped.filter(kind=JobKind.SYNC, state=JobState.QUEUED)
    assert [j.account.account_id for j in syncs] == ["100000000001"]
    (validation,) = Job.unscoped.filter(kind=JobKind.VALIDATE)
    # Due: the two roles above, and the management accounts validated at NOW are not.
    assert validation.tenant_id == a.pk
    assert validation.total == 2
    assert done.syncs == [syncs[0].pk]
    assert done.validations == [validation.pk]
    assert DBTaskResult.objects.count() == 2  # one task each, handed to the worker


def test_a_second_tick_enqueues_nothing_while_the_work_is_queued(tick, clock):
    _world()
    tick()
    clock(minutes=5)
    again = tick()
    assert again.syncs == []
    assert again.validations == []
    assert Job.unscoped.count() == 3  # the earlier sync, and the two queued
    assert DBTaskResult.objects.count() == 2


def test_due_again_after_the_interval(tick, clock):
    a, _ = _world()
    tick()
    Job.unscoped.update(state=JobState.SUCCEEDED)
    CloudAccount.unscoped.filter(tenant=a).exclude(role_arn="").update(last_validated_at=NOW)
    clock(minutes=59)
    assert tick().validations == []
    clock(minutes=61)
    later = tick()
    assert len(later.validations) == 1
    assert later.syncs == []  # the syncs are daily
    Job.unscoped.update(state=JobState.SUCCEEDED)
    clock(hours=25)
    day = tick()
    assert len(day.syncs) == 2
    # Bravo's role is due too now, and Alpha's again.
    assert len(day.validations) == 2


def test_a_stale_validation_job_is_taken_over(tick, clock):
    _world()
    tick()
    job = Job.unscoped.get(kind=JobKind.VALIDATE)
    Job.unscoped.filter(pk=job.pk).update(state=JobState.RUNNING, updated_at=timezone.now() - dt.timedelta(hours=1))
    clock(minutes=1)
    retry = tick()
    assert len(retry.validations) == 1
    job.refresh_from_db()
    assert job.state == JobState.FAILED


def test_several_schedulers_at_once_enqueue_each_job_once(threads_db):
    _world()
    ticks = run_together(*[scheduler_tick] * 4)
    assert not [t for t in ticks if isinstance(t, BaseException)], ticks
    assert sum(len(t.syncs) for t in ticks) == 1
    assert sum(len(t.validations) for t in ticks) == 1
    assert Job.unscoped.filter(state=JobState.QUEUED).count() == 2
    assert DBTaskResult.objects.count() == 2


def test_the_command_runs_one_tick(capsys, commit, monkeypatch):
    from cloudmsp.cloud.management.commands import scheduler

    # Between ticks the command drops a stale connection, which would be the test's transaction.
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)
    _world()
    with commit():
        call_command("scheduler", "--once")
    assert "1 sync(s), 1 validation job(s)" in capsys.readouterr().out
    assert Job.unscoped.filter(state=JobState.QUEUED).count() == 2


def test_several_scheduler_processes_at_once_enqueue_each_job_once(threads_db):
    """Real `manage.py scheduler --once` processes, started together against the test database
    (committed data): each due job is enqueued by one of them."""
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    _world()
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **{k: v for k, v in __import__("os").environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
    }
    root = Path(__file__).resolve().parents[2]
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "scheduler", "--once"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    # Run at the real time, a day or more after NOW: both of Alpha's MSP accounts are due, and
    # both tenants' roles.
    assert Job.unscoped.filter(kind=JobKind.SYNC, state=JobState.QUEUED).count() == 2
    assert Job.unscoped.filter(kind=JobKind.VALIDATE).count() == 2
    assert DBTaskResult.objects.count() == 4
    assert sum("Acted" in out for out in outputs) >= 1


def test_a_running_bulk_validation_does_not_hold_the_scheduled_one_back(admin):
    from cloudmsp.cloud.services.schedule import _due_validation

    CloudAccountFactory(tenant=admin.tenant, role_arn="arn:aws:iam::123456789012:role/x")
    Job.unscoped.create(tenant=admin.tenant, kind=JobKind.VALIDATE, params={"bulk": True, "accounts": []})
    job = _due_validation(admin.tenant, timezone.now())
    assert job is not None
    assert job.params["scheduled"] is True
    # ...while a scheduled one still running does.
    assert _due_validation(admin.tenant, timezone.now()) is None
