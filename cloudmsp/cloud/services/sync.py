"""Discovering the member accounts of an organization."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.aws import operations as aws
from cloudmsp.cloud.aws.errors import AwsError
from cloudmsp.cloud.models import AwsStatus, Category, CloudAccount, Job, JobKind, JobState, Kind
from cloudmsp.cloud.services.accounts import new_external_id
from cloudmsp.cloud.services.jobs import job_enqueue, job_finish, job_progress, job_start
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.core.queries import IN_CHUNK, chunks
from cloudmsp.tenancy.access import require_tenant_admin

if TYPE_CHECKING:
    from cloudmsp.users.models import User

SYNCED_FIELDS = ("name", "email", "aws_status", "ou_path")
BATCH = 500


def sync_start(*, actor: User, account: CloudAccount) -> Job:
    """Start a discovery job for a connected management account. Only one runs at a time per
    account: a second request while one is queued or running gets that job back as a 409."""
    from cloudmsp.cloud.tasks import run_sync

    tenant = require_tenant_admin(actor)
    if account.kind != Kind.MANAGEMENT:
        raise ApplicationError("Only an MSP (management) account has an organization to sync.")
    if not account.is_onboarded:
        raise ApplicationError("Connect the account's role first; the sync uses it.")
    with transaction.atomic():
        running = (
            Job.objects.for_tenant(tenant)
            .filter(account=account, kind=JobKind.SYNC, state__in=[JobState.QUEUED, JobState.RUNNING])
            .first()
        )
        if running is not None:
            raise ConflictError(
                f"A sync of this account is already running (job {running.pk}).", extra={"job": running.pk}
            )
        job = Job.objects.create(tenant=tenant, kind=JobKind.SYNC, account=account, created_by=actor)
        audit_record(actor=actor, action="cloud_account.sync", obj=account, changes={"job": [None, job.pk]})
        job_enqueue(job, run_sync)
    return job


def organization_sync(job: Job) -> dict[str, Any]:
    """The job body: list the organization (one call in flight at a time, MaxResults=20,
    following every NextToken), then write the differences in a few bulk statements. New
    accounts are added; accounts gone from the organization or closed are marked, never deleted,
    so their customer assignment stays."""
    job_start(job)
    management = CloudAccount.objects.for_tenant(job.tenant_id).get(pk=int(job.account_id or 0))
    try:
        creds = aws.assume_role(
            management.role_arn, management.external_id, step="Assume the management account's role"
        )
        stats = aws.ListingStats()
        listed: dict[str, aws.OrgAccount] = {}
        started = time.monotonic()
        for acct in aws.organization_accounts(creds, stats):
            if acct.account_id != management.account_id:
                listed[acct.account_id] = acct
            if len(listed) % 200 == 0:
                job_progress(job, done=len(listed))
        aws_seconds = time.monotonic() - started
    except AwsError as exc:
        job_finish(job, error=str(exc))
        return {}
    db_started = time.monotonic()
    result = _apply(job, management, listed)
    result.update(
        list_accounts_calls=stats.list_accounts_calls,
        other_calls=stats.other_calls,
        aws_seconds=round(aws_seconds, 3),
        db_seconds=round(time.monotonic() - db_started, 3),
    )
    job_progress(job, done=len(listed), total=len(listed))
    job_finish(job, result=result)
    return result


def _apply(job: Job, management: CloudAccount, listed: dict[str, aws.OrgAccount]) -> dict[str, Any]:
    tenant_id = management.tenant_id
    with transaction.atomic():
        existing = {
            a.account_id: a
            for ids in chunks(list(listed), IN_CHUNK)
            for a in CloudAccount.objects.for_tenant(tenant_id)
            .filter(account_id__in=ids)
            .only("id", "account_id", "parent_id", "kind", *SYNCED_FIELDS)
        }
        members = {
            a.account_id: a
            for a in CloudAccount.objects.for_tenant(tenant_id)
            .filter(parent=management)
            .only("id", "account_id", *SYNCED_FIELDS)
        }
        existing.update(members)
        new, changed, elsewhere = [], [], []
        for account_id, acct in listed.items():
            row = existing.get(account_id)
            if row is None:
                new.append(
                    CloudAccount(
                        tenant_id=tenant_id,
                        category=Category.MSP,
                        kind=Kind.MEMBER,
                        parent=management,
                        account_id=account_id,
                        name=acct.name[:200],
                        email=acct.email[:254],
                        aws_status=acct.status if acct.status in AwsStatus.values else AwsStatus.ACTIVE,
                        ou_path=acct.ou_path[:1000],
                        external_id=new_external_id(),
                    )
                )
                continue
            if row.parent_id != management.pk:
                elsewhere.append(account_id)
                continue
            values = {
                "name": acct.name[:200],
                "email": acct.email[:254],
                "aws_status": acct.status if acct.status in AwsStatus.values else AwsStatus.ACTIVE,
                "ou_path": acct.ou_path[:1000],
            }
            if any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                changed.append(row)
        vanished = [
            a.pk for account_id, a in members.items() if account_id not in listed and a.aws_status != AwsStatus.REMOVED
        ]
        CloudAccount.unscoped.bulk_create(new, batch_size=BATCH)
        CloudAccount.unscoped.bulk_update(changed, [*SYNCED_FIELDS, "updated_at"], batch_size=BATCH)
        if vanished:
            CloudAccount.objects.for_tenant(tenant_id).filter(pk__in=vanished).update(
                aws_status=AwsStatus.REMOVED, updated_at=timezone.now()
            )
        CloudAccount.objects.for_tenant(tenant_id).filter(pk=management.pk).update(last_synced_at=timezone.now())
        result = {
            "listed": len(listed),
            "added": len(new),
            "updated": len(changed),
            "removed": len(vanished),
            "skipped_elsewhere": sorted(elsewhere)[:100],
        }
        audit_record(
            actor=job.created_by,
            action="cloud_account.sync_result",
            obj=management,
            tenant_id=tenant_id,
            changes={k: [None, v] for k, v in result.items() if k != "skipped_elsewhere"},
            message=(
                f"{len(elsewhere)} account(s) are already in the portal elsewhere and were left as they are."
                if elsewhere
                else ""
            ),
        )
    return result
