"""Discovering the member accounts of an organization."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import AuditEntry, audit_record, audit_record_many
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Job, JobKind, JoinedMethod, Kind
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.providers.base import DiscoveredAccount, ProviderError
from cloudmsp.cloud.services.jobs import (
    job_enqueue,
    job_finish,
    job_progress,
    job_running_for,
    job_start,
    job_still_running,
)
from cloudmsp.cloud.services.rules import rules_apply_discovered, rules_need_tags
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.core.queries import IN_CHUNK, chunks, insert_rows, refresh_planner_statistics
from cloudmsp.notifications.models import EventType
from cloudmsp.notifications.services import Notice, account_ref, notify_many
from cloudmsp.tenancy.access import Actor, require_tenant_admin

SYNCED_FIELDS = ("name", "email", "aws_state", "ou_path", "joined_method", "joined_at")
BATCH = 500
# The job's heartbeat (see jobs.STALE_AFTER) is written at least this often while listing.
HEARTBEAT_SECONDS = 30


def sync_start(*, actor: Actor, account: CloudAccount) -> Job:
    """Start a discovery job for a connected management account. Only one runs at a time per
    account: a second request while one is queued or running gets that job back as a 409. A
    running job whose worker died (no heartbeat for jobs.STALE_AFTER) is marked interrupted and
    a new one starts; since a sync writes nothing before its listing is complete, the new run
    starts from a clean state."""
    tenant = require_tenant_admin(actor)
    if account.kind != Kind.MANAGEMENT:
        raise ApplicationError("Only an MSP (management) account has an organization to sync.")
    if not account.is_onboarded:
        raise ApplicationError("Connect the account's role first; the sync uses it.")
    with transaction.atomic():
        running = job_running_for(tenant, account, JobKind.SYNC)
        if running is not None:
            raise ConflictError(
                f"A sync of this account is already running (job {running.pk}).", extra={"job": running.pk}
            )
        job = Job.objects.create(tenant=tenant, kind=JobKind.SYNC, account=account, created_by_id=actor.pk)
        audit_record(actor=actor, action="cloud_account.sync", obj=account, changes={"job": [None, job.pk]})
        job_enqueue(job)
    return job


def organization_sync(job: Job) -> dict[str, Any]:
    """The job body: list the organization (one call in flight at a time, MaxResults=20,
    following every NextToken), then write the differences in a few bulk statements. New
    accounts are added; accounts gone from the organization or closed are marked, never deleted,
    so their customer assignment stays."""
    job_start(job)
    management = CloudAccount.objects.for_tenant(job.tenant_id).get(pk=int(job.account_id or 0))
    started = time.monotonic()
    try:
        listing = provider_for(management.provider).list_organization(
            role_arn=management.role_arn,
            external_id=management.external_id,
            progress=_heartbeat(job),
            tags=rules_need_tags(management.tenant_id),
        )
    except ProviderError as exc:
        with transaction.atomic():
            job_finish(job, error=str(exc))
            notify_many(
                tenant_id=management.tenant_id,
                notices=[Notice(EventType.SYNC_FAILED, account_ref(management), {"error": str(exc), "job": job.pk})],
            )
        return {}
    aws_seconds = time.monotonic() - started
    listed = {k: v for k, v in listing.accounts.items() if k != management.account_id}
    db_started = time.monotonic()
    result = _apply(job, management, listed)
    if result is None:
        return {}  # taken as interrupted meanwhile; a newer run owns the account now
    if result.get("added"):
        refresh_planner_statistics()
    if listing.warnings:
        result["warnings"] = list(listing.warnings)
    result.update(
        list_accounts_calls=listing.list_accounts_calls,
        other_calls=listing.other_calls,
        aws_seconds=round(aws_seconds, 3),
        db_seconds=round(time.monotonic() - db_started, 3),
    )
    job_progress(job, done=len(listed), total=len(listed))
    job_finish(job, result=result)
    return result


def _heartbeat(job: Job) -> Callable[[int], None]:
    """Progress while listing: the only write before the listing is complete (so a listing that
    fails or is interrupted leaves the accounts as they were), at least every 200 accounts and
    every HEARTBEAT_SECONDS, which keeps the job from looking stale."""
    beat = [time.monotonic()]

    def progress(done: int) -> None:
        if done % 200 == 0 or time.monotonic() - beat[0] > HEARTBEAT_SECONDS:
            job_progress(job, done=done)
            beat[0] = time.monotonic()

    return progress


def _apply(job: Job, management: CloudAccount, listed: dict[str, DiscoveredAccount]) -> dict[str, Any] | None:
    """Write the differences in one transaction; None (and nothing written) when the job was
    taken as interrupted while it listed."""
    tenant_id = management.tenant_id
    with transaction.atomic():
        if not job_still_running(job):
            return None
        existing, members = _known(management, listed)
        states_before = {a.pk: a.aws_state for a in existing.values()}
        new, changed, moved, elsewhere = _diff(management, listed, existing)
        vanished = [
            a for account_id, a in members.items() if account_id not in listed and a.aws_state != AwsState.REMOVED
        ]
        new.sort(key=lambda a: a["account_id"])  # in index order: fewer pages touched per insert
        inserting = timezone.now()
        insert_rows(
            CloudAccount,
            new,
            common={"tenant_id": tenant_id, "category": Category.MSP, "kind": Kind.MEMBER, "parent_id": management.pk},
        )
        _update(changed, moved)
        if vanished:
            # Still this organization's: another organization's sync may have just moved one in.
            CloudAccount.objects.for_tenant(tenant_id).filter(
                pk__in=[a.pk for a in vanished], parent=management
            ).update(aws_state=AwsState.REMOVED, updated_at=timezone.now())
        assigned = rules_apply_discovered(
            management=management, since=inserting, actor=job.created_by, now=timezone.now()
        )
        _audit_moves(job, management, moved, vanished)
        _announce(management, new, [*changed, *(row for row, _ in moved)], vanished, states_before)
        CloudAccount.objects.for_tenant(tenant_id).filter(pk=management.pk).update(last_synced_at=timezone.now())
        result = {
            "listed": len(listed),
            "added": len(new),
            "updated": len(changed),
            "removed": len(vanished),
            "moved_in": len(moved),
            "assigned_by_rules": assigned,
            "skipped_elsewhere": sorted(elsewhere)[:100],
        }
        _audit_result(job, management, result, elsewhere)
    return result


def _update(changed: list[CloudAccount], moved: list[tuple[CloudAccount, int]]) -> None:
    """Rows are locked in primary-key order, as an assignment rule's apply locks them: two
    writers taking locks in one order cannot deadlock."""
    changed.sort(key=lambda a: a.pk)
    moved.sort(key=lambda pair: pair[0].pk)
    CloudAccount.unscoped.bulk_update(changed, [*SYNCED_FIELDS, "tags", "external_id", "updated_at"], batch_size=BATCH)
    CloudAccount.unscoped.bulk_update(
        [row for row, _ in moved], [*SYNCED_FIELDS, "tags", "parent", "external_id", "updated_at"], batch_size=BATCH
    )


def _audit_result(job: Job, management: CloudAccount, result: dict[str, Any], elsewhere: list[str]) -> None:
    audit_record(
        actor=job.created_by,
        action="cloud_account.sync_result",
        obj=management,
        tenant_id=management.tenant_id,
        changes={k: [None, v] for k, v in result.items() if k != "skipped_elsewhere"},
        message=(
            f"{len(elsewhere)} account(s) are already in the portal outside this organization and were left as they are."
            if elsewhere
            else ""
        ),
    )


# What entering an AWS state announces (SPEC 9); closing goes through PENDING_CLOSURE first.
STATE_EVENTS = {
    AwsState.SUSPENDED: EventType.ACCOUNT_SUSPENDED,
    AwsState.PENDING_CLOSURE: EventType.ACCOUNT_CLOSED,
    AwsState.CLOSED: EventType.ACCOUNT_CLOSED,
}


def _announce(
    management: CloudAccount,
    new: list[dict[str, Any]],
    updated: list[CloudAccount],
    vanished: list[CloudAccount],
    states_before: dict[int, str],
) -> None:
    """Events for what the sync found, in its transaction: accounts suspended, closed or gone
    from the organization, and new ones (not on an organization's first sync, which finds them
    all)."""
    org = {"management_account": management.account_id}
    notices = []
    for row in updated:
        before, after = states_before.get(row.pk), row.aws_state
        event = STATE_EVENTS.get(AwsState(after)) if after != before else None
        if event is not None and not (event == EventType.ACCOUNT_CLOSED and before == AwsState.PENDING_CLOSURE):
            notices.append(Notice(event, account_ref(row), {**org, "aws_state": after, "previous_state": before}))
    notices += [
        Notice(EventType.ACCOUNT_REMOVED, account_ref(a), {**org, "previous_state": a.aws_state}) for a in vanished
    ]
    if new and management.last_synced_at is not None:
        for ids in chunks([row["account_id"] for row in new], IN_CHUNK):
            for row in CloudAccount.objects.for_tenant(management.tenant_id).filter(
                parent=management, account_id__in=ids
            ):
                notices.append(
                    Notice(EventType.ACCOUNT_DISCOVERED, account_ref(row), {**org, "aws_state": row.aws_state})
                )
    notify_many(tenant_id=management.tenant_id, notices=notices)


def _audit_moves(
    job: Job, management: CloudAccount, moved: list[tuple[CloudAccount, int]], vanished: list[CloudAccount]
) -> None:
    """One event per account that came from another organization of the tenant, and per account
    that left this one (its customer is kept either way)."""
    old_ids = dict(
        CloudAccount.objects.for_tenant(management.tenant_id)
        .filter(pk__in={old for _, old in moved})
        .values_list("pk", "account_id")
    )
    entries = [
        AuditEntry(
            obj=row,
            changes={"parent": [old_ids.get(old), management.account_id]},
            message=f"Moved from the organization of {old_ids.get(old)} to that of {management.account_id}; "
            "its customer is kept.",
        )
        for row, old in moved
    ]
    audit_record_many(
        actor=job.created_by, action="cloud_account.move", tenant_id=management.tenant_id, entries=entries
    )
    audit_record_many(
        actor=job.created_by,
        action="cloud_account.leave_organization",
        tenant_id=management.tenant_id,
        entries=[
            AuditEntry(
                obj=a,
                changes={"aws_state": [a.aws_state, AwsState.REMOVED]},
                message=f"No longer in the organization of {management.account_id}; its customer is kept.",
            )
            for a in vanished
        ],
    )


def _known(
    management: CloudAccount, listed: dict[str, DiscoveredAccount]
) -> tuple[dict[str, CloudAccount], dict[str, CloudAccount]]:
    """The tenant's accounts among the listed ones (wherever they are), and the management
    account's members, by account id."""
    tenant_id = management.tenant_id
    existing = {
        a.account_id: a
        for ids in chunks(list(listed), IN_CHUNK)
        for a in CloudAccount.objects.for_tenant(tenant_id)
        .filter(account_id__in=ids)
        .only("id", "account_id", "parent_id", "kind", "role_arn", "external_id", "tags", *SYNCED_FIELDS)
    }
    members = {
        a.account_id: a
        for a in CloudAccount.objects.for_tenant(tenant_id)
        .filter(parent=management)
        .only("id", "account_id", "parent_id", "kind", "role_arn", "external_id", "tags", *SYNCED_FIELDS)
    }
    existing.update(members)
    return existing, members


def _synced_values(acct: DiscoveredAccount) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": acct.name[:200],
        "email": acct.email[:254],
        "aws_state": acct.state if acct.state in AwsState.values else AwsState.ACTIVE,
        "ou_path": acct.ou_path[:1000],
        "joined_method": acct.joined_method if acct.joined_method in JoinedMethod.values else "",
        "joined_at": acct.joined_at,
    }
    if acct.tags is not None:  # read only while a rule matches on tags (services.rules)
        values["tags"] = acct.tags
    return values


def _diff(
    management: CloudAccount, listed: dict[str, DiscoveredAccount], existing: dict[str, CloudAccount]
) -> tuple[list[dict[str, Any]], list[CloudAccount], list[tuple[CloudAccount, int]], list[str]]:
    """What the listing changes: rows to insert, members whose synced fields changed (updated in
    place), members of another of the tenant's organizations that are in this one now (an
    account is in one organization at a time, so it moved: re-parented here, with their previous
    parent), and ids the tenant has as Non-MSP accounts (left alone)."""
    new: list[dict[str, Any]] = []
    changed: list[CloudAccount] = []
    moved: list[tuple[CloudAccount, int]] = []
    elsewhere: list[str] = []
    provider = provider_for(management.provider)
    for account_id, acct in listed.items():
        values = _synced_values(acct)
        row = existing.get(account_id)
        external_id = provider.member_external_id(management_external_id=management.external_id, account_id=account_id)
        if row is None:
            new.append({"account_id": account_id, **values, "external_id": external_id, "tags": acct.tags or {}})
            continue
        old_parent = row.parent_id
        is_moving = old_parent not in (None, management.pk) and row.kind == Kind.MEMBER
        if (is_moving or old_parent == management.pk) and not row.role_arn and row.external_id != external_id:
            # A member with no role yet (discovered before ids were derived, or come from another
            # organization) takes the id this organization's StackSet template gives it.
            values["external_id"] = external_id
        if is_moving and old_parent is not None:
            moved.append((row, old_parent))
            row.parent_id = management.pk
            for k, v in values.items():
                setattr(row, k, v)
        elif row.parent_id != management.pk:
            elsewhere.append(account_id)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed.append(row)
    return new, changed, moved, elsewhere
