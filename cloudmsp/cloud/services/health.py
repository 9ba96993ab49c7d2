"""Role health (SPEC 9): every validation of an account's stored role is kept as a check, the
account carries the health the latest check found, and a change of health is announced
(role.broken, role.recovered) through the notifications dispatcher, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cloudmsp.cloud.models import CloudAccount, Health, HealthCheck
from cloudmsp.cloud.providers.base import RoleCheck
from cloudmsp.notifications.models import EventType
from cloudmsp.notifications.services import Notice, account_ref, notify_many

HEALTH_FIELDS = ["health", "health_since"]
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class Checked:
    """A validation of `account`'s stored role and what it found."""

    account: CloudAccount
    result: RoleCheck


def health_apply(checked: Sequence[Checked], *, trigger: str, now: datetime | None = None) -> list[CloudAccount]:
    """Record the checks, in the caller's transaction: one HealthCheck each, the accounts' new
    health set on the instances (the caller saves them with HEALTH_FIELDS; returned are those
    whose health changed) and a notice for each that broke or recovered."""
    if not checked:
        return []
    now = now or timezone.now()
    rows: list[HealthCheck] = []
    notices: list[Notice] = []
    changed: list[CloudAccount] = []
    tenant_id = checked[0].account.tenant_id
    for item in checked:
        account, result = item.account, item.result
        new = Health.HEALTHY if result.ok else Health.BROKEN
        old = account.health
        rows.append(
            HealthCheck(
                tenant_id=account.tenant_id,
                account=account,
                checked_at=now,
                ok=result.ok,
                step="" if result.ok else result.step[:64],
                message=result.message,
                role_arn=account.role_arn,
                trigger=trigger,
                changed_from=old if old != new else "",
            )
        )
        if old == new:
            continue
        account.health, account.health_since = new, now
        changed.append(account)
        if new == Health.BROKEN:
            notices.append(
                Notice(
                    EventType.ROLE_BROKEN,
                    account_ref(account),
                    {"role_arn": account.role_arn, "step": result.step, "message": result.message},
                )
            )
        elif old == Health.BROKEN:
            notices.append(
                Notice(
                    EventType.ROLE_RECOVERED,
                    account_ref(account),
                    {"role_arn": account.role_arn, "message": result.message},
                )
            )
    HealthCheck.unscoped.bulk_create(rows, batch_size=500)
    notify_many(tenant_id=tenant_id, notices=notices)
    return changed


def health_reload(tenant_id: int, accounts: Sequence[CloudAccount]) -> dict[int, str]:
    """Inside the transaction that stores checks: lock the accounts' rows and put their stored
    health on the instances (another check may have been written while AWS answered). Returns
    each one's stored Role ARN, by id: a role removed or replaced meanwhile keeps that change."""
    stored: dict[int, str] = {}
    by_pk = {a.pk: a for a in accounts}
    rows = (
        CloudAccount.objects.for_tenant(tenant_id)
        .select_for_update()
        .filter(pk__in=list(by_pk))
        .values_list("pk", "role_arn", "health", "health_since")
    )
    for pk, role_arn, health, since in rows:
        by_pk[pk].health, by_pk[pk].health_since = health, since
        stored[pk] = role_arn
    return stored


def health_forget(account: CloudAccount) -> None:
    """The account has no role any more: nothing to be healthy or broken (its checks stay)."""
    account.health, account.health_since = Health.UNKNOWN, None


def health_checks_prune(*, tenant_id: int, retention_days: int, now: datetime | None = None) -> int:
    """Delete checks older than the retention window, except those that changed an account's
    health (its timeline) and each account's latest (what its health rests on). At most
    PRUNE_BATCH per call: the scheduler comes back."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days)
    newer = HealthCheck.objects.for_tenant(tenant_id).filter(
        account=OuterRef("account"), checked_at__gt=OuterRef("checked_at")
    )
    old = (
        HealthCheck.objects.for_tenant(tenant_id)
        .filter(checked_at__lt=cutoff, changed_from="")
        .filter(Exists(newer))
        .values_list("pk", flat=True)[:PRUNE_BATCH]
    )
    ids = list(old)
    if not ids:
        return 0
    with transaction.atomic():
        return HealthCheck.objects.for_tenant(tenant_id).filter(pk__in=ids).delete()[0]
