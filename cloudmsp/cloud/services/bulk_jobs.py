"""Bulk onboarding and bulk validation as jobs (SPEC 10, "Bulk at scale"): the job holds the ids
it was started with (`params.accounts`), reports done/total as it goes, and ends with a result
per account (`result.accounts`: id, account id, name, ok, message) from which "Retry the failed
ones" starts a new job for only the accounts that failed.

Validation runs in batches through services.bulk.validate_many (bounded concurrency, credentials
reused, one transaction a batch). Onboarding runs each account's attempt (cloud calls only,
services.onboarding.onboard_attempt) in at most settings.AWS_CONCURRENCY threads and stores each
outcome, with its audit event, from the job's own thread as it arrives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.models import CloudAccount, Job, JobKind, JobState, OnboardingStatus
from cloudmsp.cloud.services.association import parse_account_ids, require_bulk_size
from cloudmsp.cloud.services.bulk import validate_many
from cloudmsp.cloud.services.jobs import job_enqueue, job_finish, job_progress, job_start
from cloudmsp.cloud.services.onboarding import (
    check_role_name,
    installation_id,
    onboard_attempt,
    onboard_record,
    onboard_refusal,
)
from cloudmsp.core.errors import ApplicationError
from cloudmsp.core.queries import id_set
from cloudmsp.tenancy.access import Actor, require_tenant_admin
from cloudmsp.tenancy.models import Tenant

BATCH = 200  # accounts validated (and written) per transaction
GONE = "The account is no longer in the portal."
NO_ROLE = "The account has no Role ARN to validate: connect or onboard it first."
BUSY = "This account is already being onboarded."


def _start(*, actor: Actor, kind: str, account_ids: Iterable[object], params: dict[str, Any]) -> Job:
    tenant = require_tenant_admin(actor)
    ids = parse_account_ids(account_ids)
    found = CloudAccount.objects.for_tenant(tenant).filter(pk__in=id_set(ids)).count()
    if found != len(ids):
        # Foreign and missing ids look alike, and no job starts.
        raise ValidationError({"accounts": [f"{len(ids) - found} of the selected accounts were not found."]})
    with transaction.atomic():
        job = Job.objects.create(
            tenant=tenant,
            kind=kind,
            created_by_id=actor.pk,
            total=len(ids),
            params={"bulk": True, "accounts": ids, **params},
        )
        audit_record(
            actor=actor, action=f"cloud_account.bulk_{kind}_start", obj=job, changes={"accounts": [None, len(ids)]}
        )
        job_enqueue(job)
    return job


def bulk_validate_start(*, actor: Actor, account_ids: Iterable[object], retry_of: int | None = None) -> Job:
    """Start validating the roles of these accounts (ids of the actor's tenant; ValidationError
    when any is invalid or out of reach, or more than association.MAX_BULK): a job."""
    params = {"retry_of": retry_of} if retry_of else {}
    return _start(actor=actor, kind=JobKind.VALIDATE, account_ids=account_ids, params=params)


def bulk_onboard_start(
    *, actor: Actor, account_ids: Iterable[object], role_name: str = "", retry_of: int | None = None
) -> Job:
    """Start onboarding these member accounts automatically with the role `role_name` (the
    provider's default when empty): a job. An account that cannot be onboarded (not a member,
    already onboarded, not active, its MSP account not connected) fails in the result with the
    reason; the others are attempted."""
    role_name = check_role_name(CloudAccount(), role_name)
    params: dict[str, Any] = {"role_name": role_name, **({"retry_of": retry_of} if retry_of else {})}
    return _start(actor=actor, kind=JobKind.ONBOARD, account_ids=account_ids, params=params)


def _entry(account: CloudAccount, ok: bool, message: str) -> dict[str, Any]:
    return {"id": account.pk, "account_id": account.account_id, "name": account.name, "ok": ok, "message": message}


def _gone(pk: int) -> dict[str, Any]:
    return {"id": pk, "account_id": "", "name": "", "ok": False, "message": GONE}


def _summary(entries: list[dict[str, Any]], *, key: str) -> dict[str, Any]:
    ok = sum(1 for e in entries if e["ok"])
    return {key: len(entries), "ok": ok, "failed": len(entries) - ok, "accounts": entries}


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _starter(job: Job) -> Any:
    """Who the job's audit events name: the administrator who started it, while they still are
    one (else the job goes on as the tenant's, like a scheduled check)."""
    user = job.created_by
    return user if user is not None and user.is_active and user.is_tenant_admin else None


def bulk_validate_job(job: Job) -> dict[str, Any]:
    """The job body of bulk validation."""
    job_start(job)
    tenant = Tenant.objects.get(pk=job.tenant_id)
    entries: list[dict[str, Any]] = []
    for chunk in _batches(job.params["accounts"]):
        accounts = {a.pk: a for a in CloudAccount.objects.for_tenant(tenant).filter(pk__in=id_set(chunk))}
        with_role = [a for a in accounts.values() if a.role_arn]
        if with_role:
            validate_many(actor=_starter(job), accounts=with_role, tenant=tenant)
        for pk in chunk:
            account = accounts.get(pk)
            if account is None:
                entries.append(_gone(pk))
            elif not account.role_arn:
                entries.append(_entry(account, False, NO_ROLE))
            else:
                ok = account.onboarding_status == OnboardingStatus.ONBOARDED
                entries.append(_entry(account, ok, account.last_validation_message))
        job_progress(job, done=len(entries))
    outcome = _summary(entries, key="checked")
    job_finish(job, result=outcome)
    return outcome


def _being_onboarded(job: Job) -> set[int]:
    """Which of the job's accounts an onboarding of their own (Onboard Account) is queued or
    running for, in one statement: those are left to it."""
    single = Job.objects.for_tenant(job.tenant_id).filter(
        kind=JobKind.ONBOARD,
        account_id__in=id_set(job.params["accounts"]),
        state__in=[JobState.QUEUED, JobState.RUNNING],
    )
    return set(single.values_list("account_id", flat=True))


def bulk_onboard_job(job: Job) -> dict[str, Any]:
    """The job body of bulk onboarding."""
    job_start(job)
    ids: list[int] = job.params["accounts"]
    accounts = CloudAccount.objects.for_tenant(job.tenant_id).select_related("parent").filter(pk__in=id_set(ids))
    entries: dict[int, dict[str, Any]] = {pk: _gone(pk) for pk in ids}
    busy = _being_onboarded(job)
    ready = []
    for account in accounts:
        reason = BUSY if account.pk in busy else onboard_refusal(account)
        if reason:
            entries[account.pk] = _entry(account, False, reason)
        else:
            ready.append(account)
            entries.pop(account.pk)
    job_progress(job, done=len(entries))
    installation_id()  # read here, once: the attempts run in threads without the database
    workers = max(1, min(settings.AWS_CONCURRENCY, 64))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"onboard-{job.pk}") as pool:
        running = {pool.submit(onboard_attempt, a, job.params["role_name"]): a for a in ready}
        try:
            for future in as_completed(running):
                account, attempt = running[future], future.result()
                if not onboard_record(job, account, attempt):
                    # Taken as interrupted: a newer job owns these accounts now.
                    for other in running:
                        other.cancel()
                    return {}
                entries[account.pk] = _entry(account, attempt.ok, attempt.message)
                job_progress(job, done=len(entries))
        except BaseException:
            for other in running:  # no more attempts start (the job fails: tasks._fail)
                other.cancel()
            raise
    outcome = _summary([entries[pk] for pk in ids], key="attempted")
    job_finish(job, result=outcome)
    return outcome


def bulk_failed_ids(job: Job) -> list[int]:
    """The accounts of a finished bulk job whose result is a failure."""
    return [e["id"] for e in (job.result or {}).get("accounts", []) if not e.get("ok")]


def bulk_retry(*, actor: Actor, job: Job) -> Job:
    """Start a new job of the same kind (and role name) for only the accounts that failed in
    `job` (fetched through selectors.job_get) and are still in the portal. ApplicationError when
    the job is not a finished bulk job or nothing of it failed."""
    tenant = require_tenant_admin(actor)
    if not job.params.get("bulk") or not job.finished:
        raise ApplicationError("Only a finished bulk onboarding or validation can be retried.")
    failed = bulk_failed_ids(job)
    require_bulk_size(len(failed))
    there = list(
        CloudAccount.objects.for_tenant(tenant)
        .filter(pk__in=id_set(failed))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not there:
        raise ApplicationError("No account failed in this job (or those that did are no longer in the portal).")
    if job.kind == JobKind.ONBOARD:
        return bulk_onboard_start(actor=actor, account_ids=there, role_name=job.params["role_name"], retry_of=job.pk)
    return bulk_validate_start(actor=actor, account_ids=there, retry_of=job.pk)
