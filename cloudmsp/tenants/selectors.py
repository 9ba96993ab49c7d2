from __future__ import annotations

from django.db.models import QuerySet

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.core.queries import count_of
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, not_found, parse_id, require_sysadmin
from cloudmsp.tenancy.models import Tenant
from cloudmsp.users.models import User

TENANT_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


def tenant_list(*, actor: Actor, search: str = "", ordering: str = "name") -> QuerySet[Tenant]:
    """Every tenant with the counts a system administrator may see (never the rows)."""
    require_sysadmin(actor)
    qs = Tenant.objects.all()
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    qs = qs.annotate(
        user_count=count_of(User, "tenant"),
        customer_count=count_of(Customer, "tenant"),
        account_count=count_of(CloudAccount, "tenant"),
    )
    return qs.order_by(*TENANT_ORDERINGS.get(ordering, TENANT_ORDERINGS["name"]))


def tenant_get_listed(*, actor: Actor, tenant_id: object) -> Tenant:
    """A tenant by id with the counts of the list, for a system administrator."""
    require_sysadmin(actor)
    pk = parse_id(tenant_id)
    tenant = tenant_list(actor=actor).filter(pk=pk).first() if pk else None
    if tenant is None:
        raise not_found("Tenant", tenant_id)
    return tenant
