from __future__ import annotations

from typing import Any, override

from django.db.models import QuerySet
from django.http import HttpRequest

from cloudmsp.customers import selectors, services
from cloudmsp.customers.forms import CustomerForm
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import actor_of, require_tenant_admin
from cloudmsp.web.crud import PanelCrud, Scope


class CustomerPages(PanelCrud[Customer]):
    namespace = "customers"
    route = ""
    pk_kwarg = "customer_id"
    template = "customers/list.html"
    event = "customers-changed"
    label = "customers"
    singular = "customer"
    section = "customers"
    orderings = selectors.CUSTOMER_ORDERINGS
    default_ordering = "company_name"
    form_class = CustomerForm

    @override
    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        # These pages are the tenant administrator's; customer users see their home page.
        require_tenant_admin(actor_of(request.user))
        return {}

    @override
    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.customer_list(actor=actor_of(request.user), search=search, ordering=ordering)

    @override
    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> Customer:
        return selectors.customer_get(actor=actor_of(request.user), customer_id=pk)

    @override
    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[Customer, dict[str, Any]]:
        return services.customer_create(actor=actor_of(request.user), **data), {}

    @override
    def update(self, request: HttpRequest, scope: Scope, obj: Customer, data: dict[str, Any]) -> Customer:
        return services.customer_update(actor=actor_of(request.user), customer=obj, data=data)

    @override
    def delete(self, request: HttpRequest, scope: Scope, obj: Customer) -> None:
        services.customer_delete(actor=actor_of(request.user), customer=obj)

    @override
    def _detail_context(self, request: HttpRequest, scope: Scope, obj: Customer, **extra: Any) -> dict[str, Any]:
        accounts = selectors.customer_accounts_preview(customer=obj)
        return {**super()._detail_context(request, scope, obj, **extra), "accounts_preview": accounts}

    def delete_impact(self, obj: Customer) -> list[str]:
        impact = services.customer_delete_impact(customer=obj)
        users, accounts = impact["users"], impact["accounts"]
        return [
            f"Its {users} user{'s' if users != 1 else ''} will be deleted.",
            f"Its {accounts} cloud account{'s' if accounts != 1 else ''} will become unassigned "
            "(the accounts themselves are kept).",
        ]


pages = CustomerPages()
