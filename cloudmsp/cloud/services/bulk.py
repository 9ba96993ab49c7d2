"""Validating many accounts' roles at once: AWS calls run with bounded concurrency (threads,
settings.AWS_CONCURRENCY) in the provider, credentials are reused for their lifetime, throttling
is retried with backoff, and the results are written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.models import Outcome
from cloudmsp.audit.services import AuditEntry, audit_record_many
from cloudmsp.cloud.models import CheckTrigger, CloudAccount, Kind, OnboardingStatus
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.providers.base import RoleCheck, RoleToCheck
from cloudmsp.cloud.services.health import HEALTH_FIELDS, Checked, health_apply, health_reload
from cloudmsp.tenancy.access import Actor, in_tenant, require_tenant_admin
from cloudmsp.tenancy.models import Tenant


@dataclass(frozen=True)
class BulkValidation:
    checked: int
    ok: int
    failed: int
    credentials_reused: int
    assume_role_calls: int


def validate_many(
    *,
    actor: Actor | None,
    accounts: Sequence[CloudAccount],
    fresh: bool = False,
    concurrency: int | None = None,
    tenant: Tenant | None = None,
    trigger: str = CheckTrigger.BULK,
) -> BulkValidation:
    """Check the roles of `accounts` (those with a Role ARN), at most `concurrency` at a time.
    Database writes happen afterwards, in this thread, in one transaction: the accounts' status,
    a health check each (services.health) and their audit events. The body of bulk validation
    and of scheduled re-validation (actor None: the scheduler, for `tenant`)."""
    if actor is not None:
        tenant = require_tenant_admin(actor)
    assert tenant is not None, "scheduled validation names its tenant"
    targets = [a for a in accounts if a.role_arn and in_tenant(a, tenant)]
    workers = max(1, min(concurrency or settings.AWS_CONCURRENCY, 64))
    # One provider for now (every account is an AWS account); a second would group by it.
    checks = provider_for().check_roles(
        [
            RoleToCheck(
                account_id=a.account_id,
                role_arn=a.role_arn,
                external_id=a.external_id,
                management=a.kind == Kind.MANAGEMENT,
            )
            for a in targets
        ],
        fresh=fresh,
        concurrency=workers,
    )
    results = checks.results
    now = timezone.now()
    for account, result in zip(targets, results, strict=True):
        account.last_validated_at = now
        if result.ok:
            account.onboarding_status = OnboardingStatus.ONBOARDED
            account.last_validation_message = result.message
        else:
            account.onboarding_status = OnboardingStatus.FAILED
            account.last_validation_message = f"{result.step} failed: {result.message}"
    _store(actor=actor, tenant=tenant, targets=targets, results=results, trigger=trigger, now=now)
    ok = sum(1 for r in results if r.ok)
    return BulkValidation(
        checked=len(targets),
        ok=ok,
        failed=len(targets) - ok,
        credentials_reused=checks.credentials_reused,
        assume_role_calls=checks.assume_role_calls,
    )


def _store(
    *,
    actor: Actor | None,
    tenant: Tenant,
    targets: list[CloudAccount],
    results: list[RoleCheck],
    trigger: str,
    now: datetime,
) -> None:
    """The accounts' status, a health check each and (unless scheduled) their audit events, in
    one transaction."""
    with transaction.atomic():
        stored = health_reload(tenant.pk, targets)
        kept = [(a, r) for a, r in zip(targets, results, strict=True) if stored.get(a.pk) == a.role_arn]
        targets = [a for a, _ in kept]
        results = [r for _, r in kept]
        health_apply([Checked(a, r) for a, r in kept], trigger=trigger, now=now)
        CloudAccount.unscoped.bulk_update(
            targets,
            ["onboarding_status", "last_validated_at", "last_validation_message", *HEALTH_FIELDS],
            batch_size=500,
        )
        # A scheduled check is recorded as a check only: the audit log keeps what people did.
        audit_record_many(
            actor=actor,
            action="cloud_account.validate",
            tenant_id=tenant.pk,
            entries=[
                AuditEntry(
                    obj=a,
                    object_repr=a.account_id,
                    outcome=Outcome.SUCCESS if r.ok else Outcome.FAILED,
                    message=a.last_validation_message,
                )
                for a, r in zip(targets, results, strict=True)
            ]
            if trigger != CheckTrigger.SCHEDULED
            else [],
        )
