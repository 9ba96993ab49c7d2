"""Writes on tenants (system administrators only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cloudmsp.audit.services import audit_record, update_with_audit
from cloudmsp.core.text import normalize
from cloudmsp.core.validation import save_or_conflict, validate_model
from cloudmsp.tenancy.access import Actor, in_tenant, require_sysadmin
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User
from cloudmsp.users.services import create_tenant_admin_unchecked
from cloudmsp.users.sessions import end_tenant_sessions
from cloudmsp.users.two_factor import revoke_tokens_of_unenrolled

TENANT_FIELDS = ("name", "is_active", "require_admin_2fa")
_DUPLICATE = "A tenant with this name already exists."
_FIELD_FOR_CODE = {"duplicate_name": "name"}


def tenant_create(*, actor: Actor | None, name: str) -> Tenant:
    """Create a tenant. `actor` is None only for operations commands run on the server."""
    if actor is not None:
        require_sysadmin(actor)
    tenant = Tenant(name=normalize(name))
    validate_model(tenant, field_for_code=_FIELD_FOR_CODE)
    with transaction.atomic():
        save_or_conflict(tenant.save, field="name", message=_DUPLICATE)
        # Installation-level event: kept with no tenant, so deleting the tenant keeps it.
        audit_record(
            actor=actor,
            action="tenant.create",
            object_type="tenant",
            object_id=tenant.pk,
            object_repr=tenant.name,
            tenant_id=None,
            changes={"name": [None, tenant.name]},
        )
    return tenant


def tenant_update(*, actor: Actor, tenant: Tenant, data: dict[str, Any]) -> Tenant:
    """Rename, disable or enable a tenant, or require two-factor authentication of its
    administrators. Disabling a tenant ends its users' sessions and revokes their API tokens (none
    comes back when it is enabled again), and they cannot sign in until then. Requiring two-factor
    authentication revokes the API tokens of the administrators who have not set it up, and sends
    them to set it up at their next request."""
    require_sysadmin(actor)
    values: dict[str, Any] = {}
    if data.get("name") is not None:
        values["name"] = normalize(str(data["name"]))
    if data.get("is_active") is not None:
        values["is_active"] = bool(data["is_active"])
    if data.get("require_admin_2fa") is not None:
        values["require_admin_2fa"] = bool(data["require_admin_2fa"])

    def credentials_changed(changes: dict[str, list[Any]]) -> None:
        if "is_active" in changes and not tenant.is_active:
            end_tenant_sessions(tenant.pk)
        if "require_admin_2fa" in changes and tenant.require_admin_2fa:
            revoke_tokens_of_unenrolled(tenant_id=tenant.pk)

    update_with_audit(
        actor=actor,
        obj=tenant,
        values=values,
        fields=TENANT_FIELDS,
        action="tenant.update",
        field_for_code=_FIELD_FOR_CODE,
        unique_field="name",
        duplicate_message=_DUPLICATE,
        # Installation-level event: kept without a tenant.
        audit={"object_type": "tenant", "tenant_id": None},
        after_save=credentials_changed,
    )
    return tenant


def tenant_delete(*, actor: Actor, tenant: Tenant) -> None:
    """Delete a tenant with everything in it: users, customers, accounts, jobs, audit trail."""
    require_sysadmin(actor)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="tenant.delete",
            object_type="tenant",
            object_id=tenant.pk,
            object_repr=tenant.name,
            tenant_id=None,
            changes={"name": [tenant.name, None]},
        )
        tenant.delete()


@dataclass(frozen=True)
class TenantWithAdmin:
    tenant: Tenant
    admin: User
    tenant_created: bool
    admin_created: bool
    activation_link: str | None


def tenant_ensure_with_admin(*, name: str, admin_email: str, password: str | None) -> TenantWithAdmin:
    """For operations commands: make sure a tenant and its administrator exist. Running it again
    changes nothing; an email already used outside this tenant's administrators is refused, and
    then nothing is created (one transaction)."""
    with transaction.atomic():
        tenant = Tenant.objects.filter(name__iexact=normalize(name)).first()
        tenant_created = tenant is None
        if tenant is None:
            tenant = tenant_create(actor=None, name=name)
        existing = User.unscoped.filter(email__iexact=normalize(admin_email)).first()
        if existing is not None:
            if existing.role != Role.TENANT_ADMIN or not in_tenant(existing, tenant):
                raise ValidationError({"admin": ["This email already belongs to another user."]})
            return TenantWithAdmin(tenant, existing, tenant_created, False, None)
        user, link = create_tenant_admin_unchecked(tenant=tenant, email=admin_email, password=password)
    return TenantWithAdmin(tenant, user, tenant_created, True, link)
