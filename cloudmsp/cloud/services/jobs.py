"""Job bookkeeping: progress is written in short transactions of its own so the page can show
it while the work goes on. Every write also stamps `updated_at`, the job's heartbeat: a running
job whose heartbeat is older than STALE_AFTER lost its worker (killed, out of memory, a
machine gone) and may be taken over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from cloudmsp.cloud.models import CloudAccount, Job, JobKind, JobState
from cloudmsp.notifications.models import EventType
from cloudmsp.notifications.services import Notice, account_ref, notify_many

T = TypeVar("T")

# Far above the longest quiet stretch of a live job (a page of accounts with every retry and
# timeout), so that only a job whose worker is gone looks stale.
STALE_AFTER = timedelta(minutes=15)
INTERRUPTED = "Interrupted: the worker running this job stopped before it finished; nothing of it was applied."


def job_start(job: Job) -> None:
    now = timezone.now()
    Job.unscoped.filter(pk=job.pk).update(state=JobState.RUNNING, started_at=now, error="", updated_at=now)
    job.state = JobState.RUNNING


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    fields: dict[str, Any] = {"done": done, "updated_at": timezone.now()}
    if total is not None:
        fields["total"] = total
    Job.unscoped.filter(pk=job.pk).update(**fields)
    job.done = done
    if total is not None:
        job.total = total


def job_finish(job: Job, *, result: dict[str, Any] | None = None, error: str = "") -> None:
    job.state = JobState.FAILED if error else JobState.SUCCEEDED
    job.error = error
    job.result = result or {}
    job.finished_at = timezone.now()
    with transaction.atomic():
        job.save(update_fields=["state", "error", "result", "finished_at", "done", "total", "updated_at"])


def job_is_stale(job: Job) -> bool:
    return job.state == JobState.RUNNING and job.updated_at < timezone.now() - STALE_AFTER


def job_interrupt(job: Job) -> bool:
    """Mark a stale running job failed, as interrupted. False when it reported meanwhile (its
    worker lives) or finished: then it stays as it is."""
    now = timezone.now()
    with transaction.atomic():
        changed = Job.unscoped.filter(pk=job.pk, state=JobState.RUNNING, updated_at__lt=now - STALE_AFTER).update(
            state=JobState.FAILED, error=INTERRUPTED, finished_at=now, updated_at=now
        )
        if changed and job.kind == JobKind.SYNC and job.account is not None:
            notify_many(
                tenant_id=job.tenant_id,
                notices=[
                    Notice(EventType.SYNC_FAILED, account_ref(job.account), {"error": INTERRUPTED, "job": job.pk})
                ],
            )
    return changed == 1


def job_running_for(tenant: Any, account: CloudAccount, kind: str) -> Job | None:
    """Inside the transaction that starts a job of `kind` for `account`: lock the account's row
    for the check and the start, so two requests at once take turns (on PostgreSQL; SQLite's
    IMMEDIATE transactions already do) and one job starts. Returns the job of that kind already
    queued or running for the account; None when there is none, or when the one there was stale
    (its worker died) and is now marked interrupted, so a new one may start."""
    CloudAccount.objects.for_tenant(tenant).select_for_update().filter(pk=account.pk).exists()
    running = (
        Job.objects.for_tenant(tenant)
        .filter(account=account, kind=kind, state__in=[JobState.QUEUED, JobState.RUNNING])
        .first()
    )
    if running is not None and job_is_stale(running) and job_interrupt(running):
        return None
    return running


def job_still_running(job: Job) -> bool:
    """Inside the transaction that applies a job's work: check that it was not taken as
    interrupted meanwhile (a worker that only seemed dead must not apply an old listing over a
    newer run's), and stamp its heartbeat. The UPDATE holds the job's row until the transaction
    ends, so it cannot be taken as interrupted while it applies."""
    return Job.unscoped.filter(pk=job.pk, state=JobState.RUNNING).update(updated_at=timezone.now()) == 1


# The task that runs each kind of job, registered by cloud.tasks (imported by CloudConfig.ready):
# the services start jobs without importing the tasks, which import the services.
_TASK_OF_KIND: dict[str, Any] = {}


def job_task(kind: str) -> Callable[[T], T]:
    """Register the decorated task as the one that runs jobs of `kind`."""

    def register(task: T) -> T:
        _TASK_OF_KIND[kind] = task
        return task

    return register


def job_enqueue(job: Job) -> None:
    """Hand the job to its kind's task once the transaction that created it commits."""
    task = _TASK_OF_KIND[job.kind]
    transaction.on_commit(lambda: task.enqueue(job.pk))
