from __future__ import annotations

from django.db.models import F, OrderBy, Q, QuerySet

from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, not_found, parse_id
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import ApiToken, User

USER_ORDERINGS = {
    "email": ("email", "id"),
    "-email": ("-email", "-id"),
    "first_name": ("first_name", "id"),
    "-first_name": ("-first_name", "-id"),
    "last_name": ("last_name", "id"),
    "-last_name": ("-last_name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


def users_manageable_by(actor: Actor) -> QuerySet[User]:
    """Users the actor may see and change: a system administrator, the tenant administrators of
    every tenant; a tenant administrator, every user of its tenant; anyone else, nobody."""
    if not actor.is_authenticated:
        return User.unscoped.none()
    if actor.is_sysadmin:
        # Installation-wide by design: system administrators manage every tenant's admins.
        return User.unscoped.filter(role=Role.TENANT_ADMIN)
    if actor.is_tenant_admin and actor.tenant_id:
        return User.objects.for_tenant(actor.tenant_id)
    return User.unscoped.none()


def user_list(
    *,
    actor: Actor,
    search: str = "",
    ordering: str = "email",
    role: str = "",
    customer: Customer | None = None,
    tenant_id: int | None = None,
) -> QuerySet[User]:
    qs = users_manageable_by(actor).select_related("tenant", "customer")
    if role:
        qs = qs.filter(role=role)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    search = search.strip()
    if search:
        qs = qs.filter(Q(email__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search))
    return qs.order_by(*USER_ORDERINGS.get(ordering, USER_ORDERINGS["email"]))


def user_get(*, actor: Actor, user_id: object) -> User:
    pk = parse_id(user_id)
    user = None
    if pk is not None:
        user = users_manageable_by(actor).select_related("tenant", "customer").filter(pk=pk).first()
    if user is None:
        raise not_found("User", user_id)
    return user


API_TOKEN_ORDERINGS: dict[str, tuple[str | OrderBy, ...]] = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    # Never-used tokens last on both databases (PostgreSQL puts NULLs first when descending).
    "-last_used": (F("last_used_at").desc(nulls_last=True), "-id"),
}


def api_token_list(*, actor: User, search: str = "", ordering: str = "-created") -> QuerySet[ApiToken]:
    """The actor's own API tokens: nobody sees anyone else's, whatever their role."""
    if not actor.is_authenticated:
        return ApiToken.objects.none()
    qs = ApiToken.objects.filter(user=actor)
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(prefix__startswith=search))
    return qs.order_by(*API_TOKEN_ORDERINGS.get(ordering, API_TOKEN_ORDERINGS["-created"]))


def api_token_get(*, actor: User, token_id: object) -> ApiToken:
    pk = parse_id(token_id)
    token = api_token_list(actor=actor).filter(pk=pk).first() if pk is not None else None
    if token is None:
        raise not_found("API token", token_id)
    return token
