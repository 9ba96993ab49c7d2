"""Onboarding member accounts (Onboard Member Account → ADD) and unlinking them (Remove Role
ARN → Ok). Nothing is left half-done: a role the portal created is removed again when a later
step fails, and the account keeps its previous state with the error."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.models import (
    AwsState,
    CheckTrigger,
    CloudAccount,
    Installation,
    Job,
    JobKind,
    Kind,
    OnboardingStatus,
)
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.providers.base import NO_ACCESS_ROLE, ManagementRole, ProviderError, RoleCheck
from cloudmsp.cloud.services.health import HEALTH_FIELDS, Checked, health_apply, health_forget
from cloudmsp.cloud.services.jobs import (
    job_enqueue,
    job_finish,
    job_progress,
    job_running_for,
    job_start,
    job_still_running,
)
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.tenancy.access import Actor, require_tenant_admin

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}\Z", re.ASCII)
ONBOARD_METHODS = (
    ("automatic", "Automatic: the portal creates the role"),
    ("manual", "Manual: I create the role and paste its ARN"),
)
STEPS = 4  # assume management role, assume org access role, create role, validate
# The columns an onboarding attempt writes.
ROLE_FIELDS = [
    # The id the role's trust was made with, written back with it: a sync that ran meanwhile
    # may have derived another for an account it saw without a role.
    "external_id",
    "role_arn",
    "role_created_by_portal",
    "onboarding_status",
    "last_validated_at",
    "last_validation_message",
    "updated_at",
    *HEALTH_FIELDS,
]


# Why an account that is not ACTIVE in AWS cannot be onboarded, by state.
NOT_ACTIVE_REASONS = {
    AwsState.PENDING_ACTIVATION: "AWS has not activated the account yet; onboard it once it is Active.",
    AwsState.SUSPENDED: "The account is suspended in AWS (closed by its owner, or suspended by AWS); "
    "no role in it can be used.",
    AwsState.PENDING_CLOSURE: "The account is being closed in AWS.",
    AwsState.CLOSED: "The account is closed in AWS.",
    AwsState.REMOVED: "The account has left the organization. If it moved to another organization of "
    "yours, sync that MSP account and onboard it there.",
}


def onboard_blocker(account: CloudAccount) -> str:
    """Why the account cannot be onboarded because of its AWS state ("" when it is ACTIVE)."""
    if account.is_active_in_aws:
        return ""
    return NOT_ACTIVE_REASONS.get(AwsState(account.aws_state), "The account is not active in AWS.")


def _require_member(account: CloudAccount) -> CloudAccount:
    if account.kind != Kind.MEMBER or account.parent_id is None:
        raise ApplicationError("Onboard Account is for member accounts of an MSP account.")
    return account


def _require_active(account: CloudAccount) -> None:
    reason = onboard_blocker(account)
    if reason:
        raise ApplicationError(f"Account {account.account_id} cannot be onboarded: {reason}")


def check_role_name(account: CloudAccount, role_name: str) -> str:
    role_name = (role_name or provider_for(account.provider).default_role_name).strip()
    if not ROLE_NAME.match(role_name):
        raise ValidationError({"role_name": ["Up to 64 letters, digits and +=,.@_- characters."]})
    return role_name


def _require_onboardable(account: CloudAccount) -> None:
    """ApplicationError (ConflictError when it is already onboarded) saying why the account
    cannot be onboarded now."""
    _require_member(account)
    if account.is_onboarded:
        raise ConflictError("This account is already onboarded; remove its Role ARN first.")
    _require_active(account)
    parent = account.parent
    assert parent is not None
    if not parent.is_onboarded:
        raise ApplicationError(f"Connect the role of the MSP account {parent.account_id} first.")


def onboard_refusal(account: CloudAccount) -> str:
    """Why the account (with its parent) cannot be onboarded now; "" when it can."""
    try:
        _require_onboardable(account)
    except ApplicationError as exc:
        return exc.message
    return ""


def onboard_start(*, actor: Actor, account: CloudAccount, role_name: str = "") -> Job:
    """Automatic onboarding, as a job: the role is created in the member account through the
    organization access role and then validated (which can take up to a minute)."""
    tenant = require_tenant_admin(actor)
    _require_member(account)
    role_name = check_role_name(account, role_name)
    _require_onboardable(account)
    with transaction.atomic():
        # A stale job is taken over (job_running_for); should its worker wake up, it writes
        # nothing (onboard_job).
        if job_running_for(tenant, account, JobKind.ONBOARD) is not None:
            raise ConflictError("This account is already being onboarded.")
        job = Job.objects.create(
            tenant=tenant,
            kind=JobKind.ONBOARD,
            account=account,
            created_by_id=actor.pk,
            total=STEPS,
            params={"role_name": role_name},
        )
        audit_record(actor=actor, action="cloud_account.onboard_start", obj=account, changes={"job": [None, job.pk]})
        job_enqueue(job)
    return job


@cache
def installation_id() -> str:
    """This installation's id: row 1, which a migration made (made again if it is missing; two
    processes doing so at once get the same row)."""
    row, _ = Installation.objects.get_or_create(pk=1, defaults={"installation_id": uuid.uuid4()})
    return str(row.installation_id)


def role_owner(account: CloudAccount) -> str:
    """The `cloudmsp:managed-by` tag of the roles the portal creates for the account's tenant."""
    return f"{installation_id()}:{account.tenant_id}"


def _management_role(account: CloudAccount) -> ManagementRole:
    """The role of the member's management account, through which the member is reached."""
    parent = account.parent
    assert parent is not None
    return ManagementRole(
        role_arn=parent.role_arn, external_id=parent.external_id, org_access_role=parent.org_access_role
    )


@dataclass(frozen=True)
class Attempt:
    """How one automatic onboarding went in the cloud (nothing is stored yet): `message` is the
    failure, or on success how the role was made and its validation."""

    ok: bool
    message: str
    role_arn: str = ""
    access_role: str = ""
    adopted: bool = False


def onboard_attempt(
    account: CloudAccount, role_name: str, *, created_step: Callable[[], None] | None = None
) -> Attempt:
    """Create the role through the organization access role and validate it; a role this
    attempt created is removed again when validation fails. Cloud calls only, no database
    (the portal's installation id is read beforehand), so bulk onboarding runs attempts in
    threads; `created_step` is called once the role exists."""
    provider = provider_for(account.provider)
    created_arn = None
    try:
        created = provider.create_member_role(
            management=_management_role(account),
            account_id=account.account_id,
            role_name=role_name,
            external_id=account.external_id,
            owner=role_owner(account),
        )
        created_arn = created.arn
        if created_step is not None:
            created_step()
        result = provider.check_role(
            account_id=account.account_id,
            role_arn=created_arn,
            external_id=account.external_id,
            wait_seconds=settings.AWS_NEW_ROLE_WAIT_SECONDS,
        )
        if not result.ok:
            raise ProviderError(result.step, result.message)
    except ProviderError as exc:
        return Attempt(ok=False, message=f"{exc}{_undo_created_role(account, created_arn, role_name)}")
    if created.adopted:
        via = f"The portal's own role from an earlier attempt was adopted (entered through {created.access_role})."
    else:
        via = f"Created through {created.access_role}."
    return Attempt(
        ok=True,
        message=f"{via} {result.message}",
        role_arn=created_arn,
        access_role=created.access_role,
        adopted=created.adopted,
    )


def onboard_record(job: Job, account: CloudAccount, attempt: Attempt) -> bool:
    """Store an attempt's outcome on the account with its audit event, in one transaction;
    False (nothing written) when `job` was taken as interrupted meanwhile."""
    if attempt.ok:
        return _record_onboarding(job, account, role_arn=attempt.role_arn, message=attempt.message)
    return _record_onboarding(job, account, failure=attempt.message)


def onboard_job(job: Job) -> dict[str, Any]:
    """The job body of automatic onboarding."""
    job_start(job)
    account = CloudAccount.objects.for_tenant(job.tenant_id).select_related("parent").get(pk=int(job.account_id or 0))
    role_name = job.params.get("role_name", provider_for(account.provider).default_role_name)
    job_progress(job, done=1)
    attempt = onboard_attempt(account, role_name, created_step=lambda: job_progress(job, done=3))
    if not onboard_record(job, account, attempt):
        return {}
    if not attempt.ok:
        job_finish(job, error=attempt.message)
        return {}
    outcome = {"role_arn": attempt.role_arn, "access_role": attempt.access_role, "adopted": attempt.adopted}
    job_progress(job, done=STEPS)
    job_finish(job, result=outcome)
    return outcome


def _undo_created_role(account: CloudAccount, created_arn: str | None, role_name: str) -> str:
    """Delete the role this attempt created (if it got so far); a sentence saying how it went."""
    if created_arn is None:
        return ""
    try:
        outcome = provider_for(account.provider).delete_member_role(
            management=_management_role(account),
            account_id=account.account_id,
            role_name=role_name,
            owner=role_owner(account),
        )
    except ProviderError as exc:
        return f" The role {created_arn} could not be removed again ({exc}); delete it in AWS."
    return {
        "deleted": " The role the portal had created was removed again.",
        "gone": f" The role {created_arn} was not found when the portal went to remove it; check in AWS that it is "
        "gone.",
    }.get(outcome, f" The role {created_arn} no longer carries the portal's tag, so it was left in place.")


def _record_onboarding(
    job: Job, account: CloudAccount, *, role_arn: str = "", message: str = "", failure: str = ""
) -> bool:
    """Store the outcome with its audit event; False (nothing written) when the job was taken as
    interrupted meanwhile, so a newer job owns the account."""
    with transaction.atomic():
        if not job_still_running(job):
            return False
        if failure:
            CloudAccount.objects.for_tenant(job.tenant_id).filter(pk=account.pk).update(
                last_validated_at=timezone.now(), last_validation_message=failure, updated_at=timezone.now()
            )
            audit_record(
                actor=job.created_by, action="cloud_account.onboard", obj=account, outcome="failed", message=failure
            )
            return True
        account.role_arn = role_arn
        account.role_created_by_portal = True
        account.onboarding_status = OnboardingStatus.ONBOARDED
        account.last_validated_at = timezone.now()
        account.last_validation_message = message
        health_apply(
            [Checked(account, RoleCheck(ok=True, step="", message=message))],
            trigger=CheckTrigger.MANUAL,
            now=account.last_validated_at,
        )
        account.save(update_fields=ROLE_FIELDS)
        audit_record(
            actor=job.created_by,
            action="cloud_account.onboard",
            obj=account,
            changes={
                "role_arn": [None, role_arn],
                "onboarding_status": [OnboardingStatus.NOT_ONBOARDED, OnboardingStatus.ONBOARDED],
            },
        )
    return True


def onboard_manual(*, actor: Actor, account: CloudAccount, role_arn: str) -> RoleCheck:
    """Register a role the administrator created from the template: validate, then store."""
    require_tenant_admin(actor)
    _require_member(account)
    if not (role_arn or "").strip():
        raise ValidationError({"role_arn": ["Paste the Role ARN of the role you created."]})
    if account.is_onboarded:
        raise ConflictError("This account is already onboarded; remove its Role ARN first.")
    _require_active(account)
    result = provider_for(account.provider).check_role(
        account_id=account.account_id, role_arn=role_arn, external_id=account.external_id
    )
    with transaction.atomic():
        account.last_validated_at = timezone.now()
        if result.ok:
            account.role_arn = role_arn.strip()
            account.role_created_by_portal = False
            account.onboarding_status = OnboardingStatus.ONBOARDED
            account.last_validation_message = result.message
            health_apply([Checked(account, result)], trigger=CheckTrigger.MANUAL, now=account.last_validated_at)
        else:
            account.last_validation_message = f"{result.step} failed: {result.message}"
        account.save(update_fields=ROLE_FIELDS)
        audit_record(
            actor=actor,
            action="cloud_account.onboard",
            obj=account,
            outcome="success" if result.ok else "failed",
            message=account.last_validation_message,
            changes={"role_arn": [None, account.role_arn]} if result.ok else {},
        )
    return result


REMOVAL_NOTES = {
    "deleted": "The role was deleted in AWS.",
    "gone": "The role was already gone in AWS.",
    "not_ours": "The role in AWS does not carry this portal's cloudmsp:managed-by tag, so it was left in place; "
    "only the Role ARN was cleared. Delete the role in AWS if it is no longer needed.",
    "unreachable": "The portal can no longer enter the account from its management account (no access role there "
    "trusts it), so the role was left in place; only the Role ARN was cleared. Delete the role in AWS if it is no "
    "longer needed.",
}


def remove_role(*, actor: Actor, account: CloudAccount) -> str:
    """Unlink an account: delete the role if the portal created it (and it still carries the
    portal's tag), then clear the ARN. If AWS refuses the deletion, nothing is cleared; if the
    account cannot be entered any more, the role stays and the ARN is cleared. Returns a sentence
    for the administrator."""
    require_tenant_admin(actor)
    if not account.role_arn:
        raise ApplicationError("This account has no Role ARN.")
    old_arn = account.role_arn
    provider = provider_for(account.provider)
    note = "The role was not created by the portal, so it stays in AWS; delete it there if it is no longer needed."
    if account.role_created_by_portal:
        if account.kind != Kind.MEMBER:
            raise ApplicationError("Only member accounts have roles created by the portal.")
        try:
            outcome = provider.delete_member_role(
                management=_management_role(account),
                account_id=account.account_id,
                role_name=account.role_name,
                owner=role_owner(account),
            )
        except ProviderError as exc:
            if exc.code != NO_ACCESS_ROLE:
                raise ApplicationError(f"The Role ARN was kept. {exc}") from exc
            # No way in any more (the account moved to another organization, or its access role
            # was deleted): keeping the ARN would leave it stuck; the role stays, and we say so.
            outcome = "unreachable"
        note = REMOVAL_NOTES[outcome]
    provider.forget_credentials(old_arn)
    with transaction.atomic():
        account.role_arn = ""
        account.role_created_by_portal = False
        account.onboarding_status = OnboardingStatus.NOT_ONBOARDED
        account.last_validation_message = note
        health_forget(account)
        account.save(
            update_fields=[
                "role_arn",
                "role_created_by_portal",
                "onboarding_status",
                "last_validation_message",
                "updated_at",
                *HEALTH_FIELDS,
            ]
        )
        audit_record(
            actor=actor,
            action="cloud_account.remove_role",
            obj=account,
            changes={"role_arn": [old_arn, None]},
            message=note,
        )
    return note
