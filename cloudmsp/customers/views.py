from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from cloudmsp.customers import selectors, services
from cloudmsp.customers.forms import CustomerForm
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import require_tenant_admin
from cloudmsp.web.crud import PanelCrud, Scope


class CustomerPages(PanelCrud):
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

    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        # These pages are the tenant administrator's; customer users see their home page.
        require_tenant_admin(request.user)  # type: ignore[arg-type]
        return {}

    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.customer_list(actor=request.user, search=search, ordering=ordering)  # type: ignore[arg-type]

    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> Customer:
        return selectors.customer_get(actor=request.user, customer_id=pk)  # type: ignore[arg-type]

    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[Model, dict[str, Any]]:
        return services.customer_create(actor=request.user, **data), {}  # type: ignore[arg-type]

    def update(self, request: HttpRequest, scope: Scope, obj: Model, data: dict[str, Any]) -> Model:
        return services.customer_update(actor=request.user, customer=obj, data=data)  # type: ignore[arg-type]

    def delete(self, request: HttpRequest, scope: Scope, obj: Model) -> None:
        services.customer_delete(actor=request.user, customer=obj)  # type: ignore[arg-type]

    def delete_impact(self, obj: Model) -> list[str]:
        impact = services.customer_delete_impact(customer=obj)  # type: ignore[arg-type]
        users, accounts = impact["users"], impact["accounts"]
        return [
            f"Its {users} user{'s' if users != 1 else ''} will be deleted.",
            f"Its {accounts} cloud account{'s' if accounts != 1 else ''} will become unassigned "
            "(the accounts themselves are kept).",
        ]


pages = CustomerPages()
