from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, override

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_http_methods

from cloudmsp.core.csvfiles import csv_response
from cloudmsp.customers import selectors, services
from cloudmsp.customers.exports import CUSTOMER_COLUMNS
from cloudmsp.customers.forms import CustomerForm
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, actor_of, require_tenant_admin
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.crud import PanelCrud, Scope
from cloudmsp.web.helpers import list_params, wants_csv
from cloudmsp.web.imports import ImportPage
from cloudmsp.web.ratelimit import rate_limit


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
    def list_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        """The list, or with `?format=csv` every customer its search selects, as CSV."""
        if not wants_csv(request):
            return super().list_view(request, **kwargs)
        scope = self.scope(request, kwargs)
        params = list_params(request, default_ordering=self.default_ordering, allowed=self.orderings)
        qs = self.queryset(request, scope, params.search, params.ordering)
        return csv_response(qs, CUSTOMER_COLUMNS, filename="customers.csv")

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

    #: The ownership intervals of a customer for its History tab (actor, customer) -> rows: set by
    #: the wiring (config.urls), as the accounts app that keeps them sits above this one.
    ownership_history: Callable[[Actor, Customer], Sequence[Any]] | None = None

    @override
    def _detail_context(self, request: HttpRequest, scope: Scope, obj: Customer, **extra: Any) -> dict[str, Any]:
        tab = selectors.customer_tab(request.GET.get("tab"))
        ctx: dict[str, Any] = {"tab": tab, "tabs": selectors.CUSTOMER_TABS}
        if tab == "details":
            ctx["accounts_preview"] = selectors.customer_accounts_preview(customer=obj)
        elif tab == "users":
            ctx["tab_users"] = selectors.customer_users(customer=obj)
        elif tab == "accounts":
            ctx["tab_accounts"] = selectors.customer_accounts_preview(customer=obj, limit=selectors.TAB_LIMIT)
        else:
            ctx["history"] = selectors.customer_history(customer=obj)
            source = self.ownership_history
            ctx["ownership"] = source(actor_of(request.user), obj) if source else []
        return {**super()._detail_context(request, scope, obj, **extra), **ctx}

    def delete_impact(self, obj: Customer) -> list[str]:
        impact = services.customer_delete_impact(customer=obj)
        users, accounts = impact["users"], impact["accounts"]
        return [
            f"Its {users} user{'s' if users != 1 else ''} will be deleted.",
            f"Its {accounts} cloud account{'s' if accounts != 1 else ''} will become unassigned "
            "(the accounts themselves are kept).",
        ]


pages = CustomerPages()


IMPORT = ImportPage(
    kind="customers",
    title="Import customers",
    service=services.customers_import,
    columns="company_name (required; rows are matched to customers by it, case-insensitively), and any of "
    "first_name, last_name, email (a new customer needs these three), phone, country, state, city, address, "
    "address2, zip_code, description. An empty cell leaves a field as it is.",
    back="customers:list",
    back_label="Customers",
    section="customers",
)


@require_http_methods(["GET", "POST"])
@rate_limit("bulk")
@tenant_admin_page
def customer_import(request: HttpRequest, admin: Admin) -> HttpResponse:
    return IMPORT.render(request, admin.actor)
