"""cloudmsp/cloud/services/jobs.py: job bookkeeping, the heartbeat, taking over a job whose
worker died, and handing a job to the task of its kind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cloudmsp.cloud.models import Category, CloudAccount, Job, JobKind, JobState, Kind
from cloudmsp.cloud.services import jobs
from tests.cloud.conftest import age_job
from tests.factories import CloudAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(admin) -> CloudAccount:
    return CloudAccountFactory(tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT)


def _job(account: CloudAccount, kind: str = JobKind.SYNC, **kwargs) -> Job:
    return Job.objects.create(tenant_id=account.tenant_id, kind=kind, account=account, **kwargs)


def _stored(job: Job) -> Job:
    return Job.unscoped.get(pk=job.pk)


# job_start, job_progress, job_finish ----------------------------------------------------------


def test_start_marks_the_job_running_in_one_statement(account, django_assert_num_queries):
    job = _job(account, error="left from before")
    with django_assert_num_queries(1):
        jobs.job_start(job)
    assert job.state == JobState.RUNNING
    stored = _stored(job)
    assert (stored.state, stored.error) == (JobState.RUNNING, "")
    assert stored.started_at is not None
    assert stored.updated_at == stored.started_at  # the first heartbeat


def test_progress_writes_done_and_total_and_the_heartbeat(account, django_assert_num_queries):
    job = _job(account)
    jobs.job_start(job)
    age_job(job)
    with django_assert_num_queries(1):
        jobs.job_progress(job, done=3, total=10)
    stored = _stored(job)
    assert (stored.done, stored.total, stored.percent) == (3, 10, 30)
    assert (job.done, job.total) == (3, 10)
    assert not jobs.job_is_stale(stored)
    jobs.job_progress(job, done=7)  # the total stays as it was
    stored = _stored(job)
    assert (stored.done, stored.total) == (7, 10)


@pytest.mark.parametrize(
    ("error", "state"), [("", JobState.SUCCEEDED), ("Assume the role failed: denied", JobState.FAILED)]
)
def test_finish_stores_the_outcome(account, error, state):
    job = _job(account)
    jobs.job_start(job)
    jobs.job_progress(job, done=4, total=4)
    jobs.job_finish(job, result={"added": 4} if not error else None, error=error)
    stored = _stored(job)
    assert (stored.state, stored.error) == (state, error)
    assert stored.result == ({"added": 4} if not error else {})
    assert (stored.done, stored.total) == (4, 4)
    assert stored.finished_at is not None
    assert stored.finished


# job_is_stale, job_running_for -----------------------------------------------------------------


def test_running_for_returns_the_queued_or_running_job_of_that_kind(admin, account):
    assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) is None
    queued = _job(account)
    assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) == queued
    jobs.job_start(queued)
    assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) == queued
    assert jobs.job_running_for(admin.tenant, account, JobKind.ONBOARD) is None  # another kind
    other = CloudAccountFactory(tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT)
    assert jobs.job_running_for(admin.tenant, other, JobKind.SYNC) is None  # another account


@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.FAILED])
def test_running_for_ignores_finished_jobs(admin, account, state):
    _job(account, state=state)
    assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) is None


def test_running_for_does_not_see_another_tenants_job(admin, account):
    foreign = CloudAccountFactory(category=Category.MSP, kind=Kind.MANAGEMENT)
    _job(foreign)
    assert jobs.job_running_for(admin.tenant, foreign, JobKind.SYNC) is None


def test_running_for_leaves_a_live_job_alone(admin, account):
    job = _job(account)
    jobs.job_start(job)
    Job.unscoped.filter(pk=job.pk).update(updated_at=timezone.now() - jobs.STALE_AFTER + dt.timedelta(minutes=1))
    assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) == job
    assert _stored(job).state == JobState.RUNNING


def test_running_for_takes_over_a_stale_job_and_marks_it_interrupted(admin, account):
    job = _job(account)
    jobs.job_start(job)
    age_job(job)
    assert jobs.job_is_stale(_stored(job))
    with transaction.atomic():
        assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) is None
    stored = _stored(job)
    assert (stored.state, stored.error) == (JobState.FAILED, jobs.INTERRUPTED)
    assert stored.finished_at is not None
    assert not jobs.job_is_stale(stored)
    assert not jobs.job_interrupt(stored)  # once only


def test_job_is_stale_only_when_running_without_a_heartbeat(account):
    job = _job(account)
    age_job(job)
    assert not jobs.job_is_stale(_stored(job))  # queued: no worker has it yet
    jobs.job_start(job)
    assert not jobs.job_is_stale(_stored(job))
    age_job(job)
    assert jobs.job_is_stale(_stored(job))


# job_still_running ----------------------------------------------------------------------------


def test_still_running_stamps_the_heartbeat(account, django_assert_num_queries):
    job = _job(account)
    jobs.job_start(job)
    age_job(job)
    with django_assert_num_queries(1):
        assert jobs.job_still_running(job)
    assert not jobs.job_is_stale(_stored(job))


def test_still_running_is_false_once_the_job_was_taken_over(admin, account):
    job = _job(account)
    jobs.job_start(job)
    age_job(job)
    assert jobs.job_running_for(admin.tenant, account, JobKind.SYNC) is None
    before = _stored(job).updated_at
    assert not jobs.job_still_running(job)
    assert _stored(job).updated_at == before  # nothing written


def test_still_running_is_false_for_a_job_not_started_or_finished(account):
    queued = _job(account)
    assert not jobs.job_still_running(queued)
    done = _job(account)
    jobs.job_start(done)
    jobs.job_finish(done, result={})
    assert not jobs.job_still_running(done)


# job_task, job_enqueue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "task"),
    [(JobKind.SYNC, "cloudmsp.cloud.tasks.run_sync"), (JobKind.ONBOARD, "cloudmsp.cloud.tasks.run_onboard")],
)
def test_enqueue_hands_the_job_to_its_kinds_task_on_commit(account, django_capture_on_commit_callbacks, kind, task):
    job = _job(account, kind=kind)
    with django_capture_on_commit_callbacks() as callbacks:
        jobs.job_enqueue(job)
        assert not DBTaskResult.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1
    assert not DBTaskResult.objects.exists()
    callbacks[0]()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == task
    assert queued.args_kwargs == {"args": [job.pk], "kwargs": {}}


def test_enqueue_within_a_rolled_back_transaction_queues_nothing(account, django_capture_on_commit_callbacks):
    job = _job(account)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                jobs.job_enqueue(job)
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not DBTaskResult.objects.exists()


def test_job_task_registers_the_task_that_runs_a_kind(account, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(jobs, "_TASK_OF_KIND", dict(jobs._TASK_OF_KIND))
    enqueued: list[int] = []

    class Task:
        def enqueue(self, job_id: int) -> None:
            enqueued.append(job_id)

    task = Task()
    assert jobs.job_task("report")(task) is task
    job = _job(account, kind="report")
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_enqueue(job)
    assert enqueued == [job.pk]
    assert not DBTaskResult.objects.exists()  # the sync and onboard tasks were not involved


def test_a_job_whose_body_raises_ends_failed_not_running(admin, run_tasks, commit, monkeypatch):
    """A job of no account is never taken as stale: one whose body crashed would run for ever."""
    from cloudmsp.cloud import tasks
    from cloudmsp.cloud.models import AssignmentRule
    from cloudmsp.cloud.services.rules import rule_apply_start
    from tests.factories import CustomerFactory

    def crash(job):
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks, "rule_apply", crash)
    rule = AssignmentRule.objects.create(
        tenant=admin.tenant, name="r", customer=CustomerFactory(tenant=admin.tenant), name_glob="*"
    )
    with commit():
        job = rule_apply_start(actor=admin, rule=rule)
    run_tasks()
    job.refresh_from_db()
    assert job.state == "failed"
    assert "unexpected error (RuntimeError)" in job.error
