"""Adding, connecting, validating, renaming and deleting cloud accounts."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import audit_record, update_with_audit
from cloudmsp.cloud.models import Category, CheckTrigger, CloudAccount, Kind, OnboardingStatus
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.providers.base import RoleCheck
from cloudmsp.cloud.services.health import HEALTH_FIELDS, Checked, health_apply, health_reload
from cloudmsp.cloud.services.rules import rules_deleted_with
from cloudmsp.core.errors import ApplicationError
from cloudmsp.core.text import normalize
from cloudmsp.core.validation import save_or_conflict, validate_model
from cloudmsp.tenancy.access import Actor, require_tenant_admin

_DUPLICATE = "This account is already in the portal."
_FIELD_FOR_CODE = {"duplicate_account": "account_id"}


def new_external_id() -> str:
    """An external id: 192 random bits, URL-safe, with a recognisable prefix."""
    return f"cmsp-{secrets.token_urlsafe(24)}"


def account_create(*, actor: Actor, category: str, account_id: str, name: str) -> CloudAccount:
    """Add an MSP (management) or Non-MSP (stand-alone) account, not yet connected: the portal
    generates its external id, which goes into the role's trust policy."""
    tenant = require_tenant_admin(actor)
    if category not in (Category.MSP, Category.NON_MSP):
        raise ValidationError({"category": ["Choose MSP or Non-MSP."]})
    account = CloudAccount(
        tenant=tenant,
        category=category,
        kind=Kind.MANAGEMENT if category == Category.MSP else Kind.STANDALONE,
        account_id=normalize(account_id or ""),
        name=normalize(name or ""),
        external_id=new_external_id(),
    )
    _validate_new(account)
    with transaction.atomic():
        save_or_conflict(account.save, field="account_id", message=_DUPLICATE)
        audit_record(
            actor=actor,
            action="cloud_account.create",
            obj=account,
            changes={
                "account_id": [None, account.account_id],
                "category": [None, category],
                "name": [None, account.name],
            },
        )
    return account


def _validate_new(account: CloudAccount) -> None:
    """The model's rules and the provider's (what an account id looks like), all errors at once."""
    errors: dict[str, list[str]] = {}

    def by_provider() -> None:
        provider_for(account.provider).validate_account_id(account.account_id)

    def by_model() -> None:
        validate_model(account, field_for_code=_FIELD_FOR_CODE)

    for check in (by_provider, by_model):
        try:
            check()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(m for m in messages if m not in errors.get(field, []))
    if errors:
        raise ValidationError(errors)


def account_update(*, actor: Actor, account: CloudAccount, name: str) -> CloudAccount:
    require_tenant_admin(actor)
    update_with_audit(
        actor=actor,
        obj=account,
        values={"name": normalize(name or "")},
        fields=("name",),
        action="cloud_account.update",
    )
    return account


def account_delete_impact(*, account: CloudAccount) -> int:
    """How many member accounts go with the account when it is deleted."""
    return CloudAccount.objects.for_tenant(account.tenant_id).filter(parent=account).count()


def account_delete(*, actor: Actor, account: CloudAccount) -> int:
    """Remove an MSP or Non-MSP account from the portal (with the member accounts discovered
    under it). Nothing is deleted in AWS. Returns how many member accounts went with it."""
    require_tenant_admin(actor)
    if account.kind == Kind.MEMBER:
        raise ApplicationError("Member accounts come from their organization; delete its MSP account instead.")
    with transaction.atomic():
        members = account_delete_impact(account=account)
        audit_record(
            actor=actor,
            action="cloud_account.delete",
            obj=account,
            changes={"account_id": [account.account_id, None], "members_removed": [members, 0]},
        )
        if account.kind == Kind.MANAGEMENT:
            rules_deleted_with(actor=actor, management=account)
        account.delete()
    return members


def account_setup_documents(*, actor: Actor, account: CloudAccount) -> dict[str, Any]:
    """The documents of the connect and onboard windows, as data (a tenant administrator's: they
    carry the external id). Those naming the portal's own cloud identity are null when it cannot
    be read (the cloud unreachable), with `portal_error`."""
    require_tenant_admin(actor)
    return provider_for(account.provider).setup_documents(
        external_id=account.external_id,
        management=account.kind == Kind.MANAGEMENT,
        org_access_role=account.org_access_role,
    )


def _store_check(
    *,
    actor: Actor | None,
    account: CloudAccount,
    result: RoleCheck,
    role_arn: str | None,
    action: str,
    trigger: str = CheckTrigger.MANUAL,
) -> None:
    account.last_validated_at = timezone.now()
    account.last_validation_message = result.message if result.ok else f"{result.step} failed: {result.message}"
    fields = ["last_validated_at", "last_validation_message", "onboarding_status", "updated_at", *HEALTH_FIELDS]
    # The check is the stored role's (its health) when it checked the stored role: a re-validation,
    # or a connect that stored what it checked; a refused new ARN says nothing of the old role.
    checked_stored = role_arn is None or (result.ok or role_arn.strip() == account.role_arn)
    if result.ok:
        account.onboarding_status = OnboardingStatus.ONBOARDED
        if role_arn is not None:
            account.role_arn = role_arn.strip()
            fields.append("role_arn")
    else:
        account.onboarding_status = OnboardingStatus.FAILED if account.role_arn else OnboardingStatus.NOT_ONBOARDED
    if checked_stored and account.role_arn:
        health_apply([Checked(account, result)], trigger=trigger, now=account.last_validated_at)
    account.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=action,
        obj=account,
        outcome="success" if result.ok else "failed",
        message=account.last_validation_message,
        changes={"role_arn": [None, account.role_arn]} if result.ok and role_arn else {},
    )


def account_require_connectable(account: CloudAccount) -> None:
    """ApplicationError unless the account is connected by pasting a Role ARN (an MSP or Non-MSP
    account; members are onboarded)."""
    if account.kind == Kind.MEMBER:
        raise ApplicationError("Member accounts are onboarded from Manage Customer Accounts.")


def account_connect(*, actor: Actor, account: CloudAccount, role_arn: str) -> RoleCheck:
    """Validate the pasted Role ARN (SPEC 4.1) and store it when every check passes. A failed
    check stores nothing but the time and message of the attempt."""
    require_tenant_admin(actor)
    account_require_connectable(account)
    result = provider_for(account.provider).check_role(
        account_id=account.account_id,
        role_arn=role_arn,
        external_id=account.external_id,
        management=account.kind == Kind.MANAGEMENT,
    )
    with transaction.atomic():
        account.role_arn = health_reload(account.tenant_id, [account]).get(account.pk, "")
        _store_check(actor=actor, account=account, result=result, role_arn=role_arn, action="cloud_account.connect")
    return result


def account_validate(*, actor: Actor | None, account: CloudAccount) -> RoleCheck:
    """Check the stored role again."""
    if actor is not None:
        require_tenant_admin(actor)
    if not account.role_arn:
        raise ApplicationError("This account has no Role ARN yet.")
    checked_arn = account.role_arn
    result = provider_for(account.provider).check_role(
        account_id=account.account_id,
        role_arn=checked_arn,
        external_id=account.external_id,
        management=account.kind == Kind.MANAGEMENT,
    )
    with transaction.atomic():
        if health_reload(account.tenant_id, [account]).get(account.pk) != checked_arn:
            return result  # removed or replaced while it was checked: that change stands
        _store_check(actor=actor, account=account, result=result, role_arn=None, action="cloud_account.validate")
    return result
