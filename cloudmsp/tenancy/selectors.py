from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from cloudmsp.core.queries import count_of
from cloudmsp.tenancy.access import not_found, parse_id, require_sysadmin
from cloudmsp.tenancy.models import Tenant

if TYPE_CHECKING:
    from cloudmsp.users.models import User

TENANT_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


def tenant_list(*, actor: User, search: str = "", ordering: str = "name") -> QuerySet[Tenant]:
    """Every tenant with the counts a system administrator may see (never the rows)."""
    from cloudmsp.cloud.models import CloudAccount
    from cloudmsp.customers.models import Customer
    from cloudmsp.users.models import User as UserModel

    require_sysadmin(actor)
    qs = Tenant.objects.all()
    if search.strip():
        qs = qs.filter(name__icontains=search.strip())
    qs = qs.annotate(
        user_count=count_of(UserModel, "tenant"),
        customer_count=count_of(Customer, "tenant"),
        account_count=count_of(CloudAccount, "tenant"),
    )
    return qs.order_by(*TENANT_ORDERINGS.get(ordering, TENANT_ORDERINGS["name"]))


def tenant_get(*, actor: User, tenant_id: object) -> Tenant:
    require_sysadmin(actor)
    pk = parse_id(tenant_id)
    tenant = tenant_list(actor=actor).filter(pk=pk).first() if pk else None
    if tenant is None:
        raise not_found("Tenant", tenant_id)
    return tenant
