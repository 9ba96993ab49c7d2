"""The scheduler's work (SPEC 9): what is due, computed from the database at each tick.

For each active tenant: a sync of every connected management account whose latest sync job
(scheduled or not) is older than the tenant's sync interval, and one validation job for the
tenant's connected roles whose last validation is older than its validation interval. A tick
runs in one transaction under a lock that one scheduler holds at a time (a PostgreSQL advisory
lock; on SQLite, a lock file beside the database and SQLite's own IMMEDIATE write lock), and
checks for a queued or running job before it starts one: any number of schedulers may run, a
restart loses nothing, and nothing is enqueued twice."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.models import AwsState, CheckTrigger, CloudAccount, Job, JobKind, JobState, Kind
from cloudmsp.cloud.services.bulk import validate_many
from cloudmsp.cloud.services.health import health_checks_prune
from cloudmsp.cloud.services.jobs import (
    job_enqueue,
    job_finish,
    job_interrupt,
    job_is_stale,
    job_progress,
    job_running_for,
    job_start,
)
from cloudmsp.notifications.services import deliveries_requeue_stuck
from cloudmsp.tenancy.access import Actor, require_tenant_admin
from cloudmsp.tenancy.models import Tenant

SCHEDULE_FIELDS = ("sync_interval_minutes", "validation_interval_minutes", "check_retention_days")

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock's key: the first 8 bytes of a hash of the name, as a signed bigint.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"cloudmsp.scheduler").digest()[:8], "big", signed=True)
VALIDATION_BATCH = 200


@dataclass
class Tick:
    """What one tick did."""

    acted: bool
    syncs: list[int] = field(default_factory=list)  # job ids
    validations: list[int] = field(default_factory=list)  # job ids
    pruned: int = 0
    requeued: int = 0  # webhook deliveries whose task was lost


def _lock_path() -> Path:
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        name = os.path.join(tempfile.gettempdir(), f"cloudmsp-{hashlib.sha256(name.encode()).hexdigest()[:12]}")
    return Path(f"{name}.scheduler.lock")


@contextmanager
def _sqlite_lock() -> Iterator[bool]:
    """The single-process lock of SQLite: an exclusive lock on a file beside the database (held
    by one process at a time, released by the kernel if the process dies)."""
    path = _lock_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _advisory_lock() -> bool:
    """On PostgreSQL, inside the tick's transaction: this scheduler acts, or another is acting."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def scheduler_tick(*, now: datetime | None = None) -> Tick:
    """Enqueue what is due at `now` (the current time unless a test freezes it)."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with transaction.atomic():
            if not _advisory_lock():
                return Tick(acted=False)
            return _enqueue_due(now)
    with _sqlite_lock() as held:
        if not held:
            return Tick(acted=False)
        with transaction.atomic():
            return _enqueue_due(now)


def _enqueue_due(now: datetime) -> Tick:
    tick = Tick(acted=True)
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        try:
            # A savepoint each: one tenant's failure (logged) leaves the others' work in place.
            with transaction.atomic():
                syncs = _due_syncs(tenant, now)
                job = _due_validation(tenant, now)
                pruned = health_checks_prune(tenant_id=tenant.pk, retention_days=tenant.check_retention_days, now=now)
        except DatabaseError:
            logger.exception("Scheduling for tenant %s failed", tenant.pk)
            continue
        tick.syncs += syncs
        tick.validations += [job.pk] if job is not None else []
        tick.pruned += pruned
    tick.requeued = deliveries_requeue_stuck(now=now)
    return tick


def due_sync_accounts(tenant: Tenant, now: datetime) -> list[CloudAccount]:
    """Connected management accounts whose latest sync job started before the interval."""
    latest = (
        Job.objects.for_tenant(tenant)
        .filter(account=OuterRef("pk"), kind=JobKind.SYNC)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    cutoff = now - timedelta(minutes=tenant.sync_interval_minutes)
    return list(
        CloudAccount.objects.for_tenant(tenant)
        .filter(kind=Kind.MANAGEMENT, onboarding_status="onboarded")
        .exclude(role_arn="")
        .annotate(last_job=Subquery(latest))
        .filter(Q(last_job__isnull=True) | Q(last_job__lte=cutoff))
        .order_by("pk")
    )


def _due_syncs(tenant: Tenant, now: datetime) -> list[int]:
    started = []
    for account in due_sync_accounts(tenant, now):
        if job_running_for(tenant, account, JobKind.SYNC) is not None:
            continue
        job = Job.objects.create(tenant=tenant, kind=JobKind.SYNC, account=account, params={"scheduled": True})
        audit_record(
            actor=None,
            action="cloud_account.sync",
            obj=account,
            tenant_id=tenant.pk,
            changes={"job": [None, job.pk]},
            message="Scheduled sync.",
        )
        job_enqueue(job)
        started.append(job.pk)
    return started


def _due_roles(tenant_id: int, cutoff: datetime) -> Any:
    return (
        CloudAccount.objects.for_tenant(tenant_id)
        .exclude(role_arn="")
        .filter(aws_state=AwsState.ACTIVE)
        .filter(Q(last_validated_at__isnull=True) | Q(last_validated_at__lte=cutoff))
    )


def _due_validation(tenant: Tenant, now: datetime) -> Job | None:
    cutoff = now - timedelta(minutes=tenant.validation_interval_minutes)
    due = _due_roles(tenant.pk, cutoff).count()
    if not due:
        return None
    running = (
        Job.objects.for_tenant(tenant)
        # A bulk validation an administrator started does not hold the scheduled one back.
        .filter(kind=JobKind.VALIDATE, account=None, params__scheduled=True)
        .filter(state__in=[JobState.QUEUED, JobState.RUNNING])
        .first()
    )
    if running is not None and not (job_is_stale(running) and job_interrupt(running)):
        return None
    job = Job.objects.create(
        tenant=tenant, kind=JobKind.VALIDATE, total=due, params={"scheduled": True, "cutoff": cutoff.isoformat()}
    )
    job_enqueue(job)
    return job


def scheduled_validation(job: Job) -> dict[str, Any]:
    """The job body: validate the roles due at the job's cutoff, VALIDATION_BATCH at a time, each
    batch written in its own transaction (validate_many), with progress."""
    job_start(job)
    tenant = Tenant.objects.get(pk=job.tenant_id)
    cutoff = datetime.fromisoformat(job.params["cutoff"])
    done = ok = 0
    last_pk = 0
    while True:
        batch = list(_due_roles(tenant.pk, cutoff).filter(pk__gt=last_pk).order_by("pk")[:VALIDATION_BATCH])
        if not batch:
            break
        last_pk = batch[-1].pk
        result = validate_many(actor=None, tenant=tenant, accounts=batch, trigger=CheckTrigger.SCHEDULED)
        done += result.checked
        ok += result.ok
        job_progress(job, done=done, total=max(job.total or 0, done))
    outcome = {"checked": done, "ok": ok, "failed": done - ok}
    job_finish(job, result=outcome)
    return outcome


def schedule_update(*, actor: Actor, data: dict[str, Any]) -> Tenant:
    """Change the tenant's intervals (SCHEDULE_FIELDS); the next tick uses them."""
    tenant = require_tenant_admin(actor)
    tenant = Tenant.objects.get(pk=tenant.pk)
    changes: dict[str, list[Any]] = {}
    for key in SCHEDULE_FIELDS:
        if key in data and data[key] != getattr(tenant, key):
            changes[key] = [getattr(tenant, key), data[key]]
            setattr(tenant, key, data[key])
    tenant.full_clean(exclude=[f.name for f in Tenant._meta.fields if f.name not in SCHEDULE_FIELDS])
    if not changes:
        return tenant
    with transaction.atomic():
        tenant.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="tenant.schedule_update", obj=tenant, changes=changes)
    return tenant
