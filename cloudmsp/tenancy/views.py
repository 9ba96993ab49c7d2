from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from cloudmsp.tenancy import selectors, services
from cloudmsp.tenancy.forms import TenantCreateForm, TenantEditForm
from cloudmsp.tenancy.models import Tenant
from cloudmsp.web.crud import PanelCrud, Scope


class TenantPages(PanelCrud):
    namespace = "tenancy"
    route = ""
    pk_kwarg = "tenant_id"
    template = "tenancy/list.html"
    event = "tenants-changed"
    label = "tenants"
    singular = "tenant"
    section = "tenants"
    orderings = selectors.TENANT_ORDERINGS
    default_ordering = "name"
    form_class = TenantEditForm
    create_form_class = TenantCreateForm

    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.tenant_list(actor=request.user, search=search, ordering=ordering)  # type: ignore[arg-type]

    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> Tenant:
        return selectors.tenant_get(actor=request.user, tenant_id=pk)  # type: ignore[arg-type]

    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[Model, dict[str, Any]]:
        return services.tenant_create(actor=request.user, name=data["name"]), {}  # type: ignore[arg-type]

    def update(self, request: HttpRequest, scope: Scope, obj: Model, data: dict[str, Any]) -> Model:
        return services.tenant_update(actor=request.user, tenant=obj, data=data)  # type: ignore[arg-type]

    def delete(self, request: HttpRequest, scope: Scope, obj: Model) -> None:
        services.tenant_delete(actor=request.user, tenant=obj)  # type: ignore[arg-type]

    def delete_impact(self, obj: Model) -> list[str]:
        t: Any = obj
        return [
            f"Its {t.user_count} user(s), {t.customer_count} customer(s) and {t.account_count} "
            "cloud account record(s) will be deleted from the portal (nothing is deleted in AWS).",
            "Its audit trail is deleted too; the deletion itself stays in the system audit trail.",
        ]


pages = TenantPages()
