"""Task wrappers: thin layers over the services, run by the task worker (django-tasks-db)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.tasks import task

from cloudmsp.cloud.models import Job, JobKind
from cloudmsp.cloud.services.bulk_jobs import bulk_onboard_job, bulk_validate_job
from cloudmsp.cloud.services.jobs import job_finish, job_task
from cloudmsp.cloud.services.onboarding import onboard_job
from cloudmsp.cloud.services.rules import rule_apply
from cloudmsp.cloud.services.schedule import scheduled_validation
from cloudmsp.cloud.services.sync import organization_sync
from cloudmsp.tenancy import rls

logger = logging.getLogger(__name__)


@contextmanager
def _job_in_its_tenant(job_id: int) -> Iterator[Job]:
    """The job, with the task's queries confined to the job's tenant by row-level security
    (PostgreSQL): a task does one tenant's work, so it runs as that tenant, not as the system."""
    with rls.system_scope():  # which tenant a job belongs to is the worker's own business
        job = Job.unscoped.get(pk=job_id)
    with rls.tenant_scope(job.tenant_id):
        try:
            yield job
        except Exception as exc:
            _fail(job, exc)
            raise


def _fail(job: Job, exc: Exception) -> None:
    """A job whose body raised ends failed, rather than running until it looks stale (and, for a
    job of no account, for ever); its body wrote nothing it had not committed."""
    try:
        job.refresh_from_db()
        if not job.finished:
            job_finish(job, error=f"The job stopped on an unexpected error ({type(exc).__name__}); try again.")
    except Exception:
        logger.exception("could not mark job %s as failed", job.pk)


@job_task(JobKind.SYNC)
@task
def run_sync(job_id: int) -> dict[str, Any]:
    with _job_in_its_tenant(job_id) as job:
        return organization_sync(job)


@job_task(JobKind.ONBOARD)
@task
def run_onboard(job_id: int) -> dict[str, Any]:
    with _job_in_its_tenant(job_id) as job:
        return bulk_onboard_job(job) if job.params.get("bulk") else onboard_job(job)


@job_task(JobKind.VALIDATE)
@task
def run_validate(job_id: int) -> dict[str, Any]:
    with _job_in_its_tenant(job_id) as job:
        return bulk_validate_job(job) if job.params.get("bulk") else scheduled_validation(job)


@job_task(JobKind.APPLY_RULE)
@task
def run_apply_rule(job_id: int) -> dict[str, Any]:
    with _job_in_its_tenant(job_id) as job:
        return rule_apply(job)
