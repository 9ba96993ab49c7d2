"""Job bookkeeping: progress is written in short transactions of its own so the page can show
it while the work goes on."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cloudmsp.cloud.models import Job, JobState


def job_start(job: Job) -> None:
    Job.unscoped.filter(pk=job.pk).update(state=JobState.RUNNING, started_at=timezone.now(), error="")
    job.state = JobState.RUNNING


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    fields: dict[str, Any] = {"done": done}
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


def job_enqueue(job: Job, task: Any) -> None:
    """Hand the job to the task worker once the transaction that created it commits."""
    transaction.on_commit(lambda: task.enqueue(job.pk))
