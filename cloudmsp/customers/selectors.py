from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from cloudmsp.audit.models import AuditEvent
from cloudmsp.core.errors import NotFound
from cloudmsp.core.queries import count_related
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, not_found, parse_id, require_tenant_admin

# Sort keys offered to users, mapped to model orderings (always ending in a unique column so
# pages are stable).
CUSTOMER_ORDERINGS = {
    "company_name": ("company_name", "id"),
    "-company_name": ("-company_name", "-id"),
    "email": ("email", "id"),
    "-email": ("-email", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "first_name": ("first_name", "id"),
    "-first_name": ("-first_name", "-id"),
    "last_name": ("last_name", "id"),
    "-last_name": ("-last_name", "-id"),
    # The counts (account_count a column, user_count annotated by with_counts), busiest first
    # when sorted descending.
    "account_count": ("account_count", "company_name", "id"),
    "-account_count": ("-account_count", "company_name", "id"),
    "user_count": ("user_count", "company_name", "id"),
    "-user_count": ("-user_count", "company_name", "id"),
}


def customers_visible_to(actor: Actor) -> QuerySet[Customer]:
    """A tenant administrator sees its tenant's customers; a customer user, its own customer."""
    if actor.is_authenticated and actor.is_customer_user and actor.tenant_id and actor.customer_id:
        return Customer.objects.for_tenant(actor.tenant_id).filter(pk=actor.customer_id)
    if actor.is_authenticated and actor.is_tenant_admin and actor.tenant_id:
        return Customer.objects.for_tenant(actor.tenant_id)
    return Customer.unscoped.none()


def with_counts(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    # account_count is a column the database keeps (Customer.account_count); the users of one
    # customer are few.
    return qs.annotate(user_count=count_related(Customer, "users"))


def customer_list(*, actor: Actor, search: str = "", ordering: str = "company_name") -> QuerySet[Customer]:
    """The customers the actor can see, with `account_count` and `user_count`."""
    qs = customers_visible_to(actor)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(company_name__icontains=search)
            | Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return with_counts(qs).order_by(*CUSTOMER_ORDERINGS.get(ordering, CUSTOMER_ORDERINGS["company_name"]))


def customer_get(*, actor: Actor, customer_id: object) -> Customer:
    """A customer the actor can see, with its counts; NotFound for anything else."""
    pk = parse_id(customer_id)
    customer = None
    if pk is not None:
        customer = with_counts(customers_visible_to(actor)).filter(pk=pk).first()
    if customer is None:
        raise not_found("Customer", customer_id)
    return customer


def customer_for_field(*, actor: Actor, customer_id: object, field: str = "customer") -> Customer:
    """customer_get for an id the client sent in a field: out of reach (or missing) is refused on
    that field (ValidationError, a 400), and a foreign customer reads exactly like a missing one."""
    try:
        return customer_get(actor=actor, customer_id=customer_id)
    except NotFound as exc:
        raise ValidationError({field: [exc.message]}) from None


PICKER_LIMIT = 50


def customer_choices(*, actor: Actor, search: str = "", limit: int | None = None) -> QuerySet[Customer]:
    """The tenant's customers by company name, those whose name contains `search`; at most
    `limit` (the customer picker shows a page of them however many the tenant has)."""
    tenant = require_tenant_admin(actor)
    qs = Customer.objects.for_tenant(tenant).order_by("company_name", "id")
    search = search.strip()
    if search:
        qs = qs.filter(company_name__icontains=search)
    return qs[:limit] if limit is not None else qs


def customer_picker(*, actor: Actor, search: str = "", selected: object = None) -> tuple[list[Customer], bool]:
    """What the customer picker offers: the first PICKER_LIMIT customers matching `search`,
    with the `selected` one (an id, checked against the tenant) first if it is not among them;
    and whether more match than are shown. Two statements whatever the number of customers."""
    found = list(customer_choices(actor=actor, search=search, limit=PICKER_LIMIT + 1))
    more = len(found) > PICKER_LIMIT
    found = found[:PICKER_LIMIT]
    pk = parse_id(selected)
    if pk is not None and all(c.pk != pk for c in found):
        chosen = customer_choices(actor=actor).filter(pk=pk).first()
        if chosen is not None:
            found.insert(0, chosen)
    return found, more


ACCOUNTS_PREVIEW = 5


def customer_accounts_preview(*, customer: Customer, limit: int = ACCOUNTS_PREVIEW) -> list[Any]:
    """The first `limit` cloud accounts of a customer (fetched through customer_get) by AWS
    account id, for its details panel; one statement. Through the relation, so this app needs
    no import of the accounts app above it."""
    related: Any = customer.cloud_accounts
    return list(related.filter(tenant_id=customer.tenant_id).order_by("account_id", "id")[:limit])


#: The tabs of a customer's details panel, in their order, with their labels.
CUSTOMER_TABS = {"details": "Details", "users": "Users", "accounts": "Accounts", "history": "History"}
TAB_LIMIT = 50


def customer_tab(value: object) -> str:
    """The tab a `?tab=` value names; the Details tab for anything else."""
    return value if isinstance(value, str) and value in CUSTOMER_TABS else "details"


def customer_users(*, customer: Customer, limit: int = TAB_LIMIT) -> list[Any]:
    """The first `limit` users of a customer (fetched through customer_get) by email, for the
    Users tab of its details panel; one statement, through the relation (no import of the users
    app above this one)."""
    related: Any = customer.users
    return list(related.filter(tenant_id=customer.tenant_id).order_by("email", "id")[:limit])


def customer_history(*, customer: Customer, limit: int = TAB_LIMIT) -> list[AuditEvent]:
    """The audit events of a customer (fetched through customer_get), newest first: its creation,
    its changes, and the attempts refused."""
    qs = AuditEvent.objects.for_tenant(customer.tenant_id).filter(object_type="customer", object_id=str(customer.pk))
    return list(qs.order_by("-created_at", "-id")[:limit])
