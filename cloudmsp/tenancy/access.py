"""Who may reach what. Every view and API endpoint fetches objects through these helpers.

Anything outside the actor's reach raises NotFound, whether it exists in another tenant or not
at all, so a foreign id can never be told apart from a missing one. PermissionDenied is only
raised for what the actor can already see but may not change.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from cloudmsp.core.errors import NotFound, PermissionDenied
from cloudmsp.core.validation import ascii_int
from cloudmsp.tenancy.models import Tenant


@runtime_checkable
class Actor(Protocol):
    """Who does something: the signed-in user (users.User). Apps below users depend on this, not
    on the users app; `is_authenticated` is false for an anonymous visitor."""

    @property
    def pk(self) -> Any: ...
    @property
    def email(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def tenant_id(self) -> int | None: ...
    @property
    def tenant(self) -> Tenant | None: ...
    @property
    def customer_id(self) -> int | None: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_sysadmin(self) -> bool: ...
    @property
    def is_tenant_admin(self) -> bool: ...
    @property
    def is_customer_user(self) -> bool: ...


# Ids in URLs and bodies are bounded so no database sees an out-of-range integer.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """An id from user input, or None when it is not a positive 64-bit integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif (parsed := ascii_int(value)) is not None:
        n = parsed
    else:
        return None
    return n if 0 < n <= MAX_ID else None


def actor_of(user: object) -> Actor:
    """`request.user` as the signed-in Actor; PermissionDenied for an anonymous visitor (the
    login middleware sends those to sign in before any page runs)."""
    if not isinstance(user, Actor) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user


def require_sysadmin(actor: Actor) -> None:
    if not (actor.is_authenticated and actor.is_sysadmin):
        raise PermissionDenied("Only a system administrator can do this.")


def require_tenant_admin(actor: Actor) -> Tenant:
    """The actor's tenant, if the actor administers one."""
    if not (actor.is_authenticated and actor.is_tenant_admin and actor.tenant_id):
        raise PermissionDenied("Only a tenant administrator can do this.")
    tenant = actor.tenant
    assert tenant is not None
    return tenant


def in_tenant(obj: object, tenant: Tenant) -> bool:
    """Whether a tenant-owned object (anything with a tenant_id) belongs to `tenant`: how a
    service checks an object handed to it, rather than comparing ids by hand."""
    return getattr(obj, "tenant_id", None) == tenant.pk


def not_found(kind: str, raw_id: object) -> NotFound:
    return NotFound(f"{kind} not found.", extra={"target": f"{kind} #{str(raw_id)[:40]}"})
