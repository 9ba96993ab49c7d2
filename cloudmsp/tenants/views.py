from __future__ import annotations

from typing import Any, override

from django.db.models import QuerySet
from django.http import HttpRequest

from cloudmsp.tenancy.access import actor_of
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenants import selectors, services
from cloudmsp.tenants.forms import TenantCreateForm, TenantEditForm
from cloudmsp.web.crud import PanelCrud, Scope


class TenantPages(PanelCrud[Tenant]):
    namespace = "tenants"
    route = ""
    pk_kwarg = "tenant_id"
    template = "tenants/list.html"
    event = "tenants-changed"
    label = "tenants"
    singular = "tenant"
    section = "tenants"
    orderings = selectors.TENANT_ORDERINGS
    default_ordering = "name"
    form_class = TenantEditForm
    create_form_class = TenantCreateForm

    @override
    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.tenant_list(actor=actor_of(request.user), search=search, ordering=ordering)

    @override
    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> Tenant:
        return selectors.tenant_get_listed(actor=actor_of(request.user), tenant_id=pk)

    @override
    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[Tenant, dict[str, Any]]:
        return services.tenant_create(actor=actor_of(request.user), name=data["name"]), {}

    @override
    def update(self, request: HttpRequest, scope: Scope, obj: Tenant, data: dict[str, Any]) -> Tenant:
        return services.tenant_update(actor=actor_of(request.user), tenant=obj, data=data)

    @override
    def delete(self, request: HttpRequest, scope: Scope, obj: Tenant) -> None:
        services.tenant_delete(actor=actor_of(request.user), tenant=obj)

    def delete_impact(self, obj: Tenant) -> list[str]:
        t: Any = obj
        return [
            f"Its {t.user_count} user(s), {t.customer_count} customer(s) and {t.account_count} "
            "cloud account record(s) will be deleted from the portal (nothing is deleted in AWS).",
            "Its audit trail is deleted too; the deletion itself stays in the system audit trail.",
        ]


pages = TenantPages()
