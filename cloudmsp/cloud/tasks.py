"""Task wrappers: thin layers over the services, run by the task worker (django-tasks-db)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from cloudmsp.cloud.models import Job


@task
def run_sync(job_id: int) -> dict[str, Any]:
    from cloudmsp.cloud.services.sync import organization_sync

    return organization_sync(Job.unscoped.get(pk=job_id))


@task
def run_onboard(job_id: int) -> dict[str, Any]:
    from cloudmsp.cloud.services.onboarding import onboard_job

    return onboard_job(Job.unscoped.get(pk=job_id))
