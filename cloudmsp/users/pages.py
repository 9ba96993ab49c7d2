"""The user lists of help page 004, in their three places: a customer's users (tenant
administrators), the tenant's administrators (tenant administrators) and a tenant's
administrators (system administrators)."""

from __future__ import annotations

from typing import Any, ClassVar, override

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cloudmsp.core.errors import ApplicationError
from cloudmsp.customers.selectors import customer_get
from cloudmsp.tenancy.access import actor_of, not_found, require_tenant_admin
from cloudmsp.tenancy.roles import Role
from cloudmsp.tenancy.selectors import tenant_get
from cloudmsp.users import selectors, services
from cloudmsp.users.forms import UserCreateForm, UserEditForm
from cloudmsp.users.models import User
from cloudmsp.web.crud import PanelCrud, Scope
from cloudmsp.web.helpers import render_htmx


class UserPages(PanelCrud[User]):
    pk_kwarg = "user_id"
    template = "users/list.html"
    event = "users-changed"
    label = "users"
    singular = "user"
    orderings = selectors.USER_ORDERINGS
    default_ordering = "email"
    form_class = UserEditForm
    create_form_class = UserCreateForm
    create_note = "They receive an email with an activation link to set their password; you will see the link too."
    role: ClassVar[str]

    def filters(self, scope: Scope) -> dict[str, Any]:  # noqa: ARG002 (a hook: subclasses read the scope)
        return {}

    def queryset(self, request: HttpRequest, scope: Scope, search: str, ordering: str) -> QuerySet[Any]:
        return selectors.user_list(
            actor=actor_of(request.user),
            search=search,
            ordering=ordering,
            role=self.role,
            **self.filters(scope),
        )

    def get_object(self, request: HttpRequest, scope: Scope, pk: int) -> User:
        qs = selectors.user_list(actor=actor_of(request.user), role=self.role, **self.filters(scope))
        user = qs.filter(pk=pk).first()
        if user is None:
            raise not_found("User", pk)
        return user

    def create(self, request: HttpRequest, scope: Scope, data: dict[str, Any]) -> tuple[User, dict[str, Any]]:
        user, link = services.user_create(
            actor=actor_of(request.user),
            role=self.role,
            tenant_id=scope["tenant"].pk if "tenant" in scope else None,
            customer_id=scope["customer"].pk if "customer" in scope else None,
            **data,
        )
        return user, {"activation_link": link}

    @override
    def update(self, request: HttpRequest, scope: Scope, obj: User, data: dict[str, Any]) -> User:
        return services.user_update(actor=actor_of(request.user), user=obj, data=data)

    @override
    def delete(self, request: HttpRequest, scope: Scope, obj: User) -> None:
        services.user_delete(actor=actor_of(request.user), user=obj)

    @override
    def delete_impact(self, obj: User) -> list[str]:
        return ["The user can no longer sign in; their sessions and API tokens end."]

    def _detail_context(self, request: HttpRequest, scope: Scope, obj: User, **extra: Any) -> dict[str, Any]:
        ctx = super()._detail_context(request, scope, obj, **extra)
        ctx["send_activation_url"] = self.url("send_activation", scope, obj)
        return ctx

    @method_decorator(never_cache)  # the answer shows the new user's activation link
    def create_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return super().create_view(request, **kwargs)

    @method_decorator(never_cache)  # the answer shows the new link
    def send_activation_view(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        pk = kwargs.pop(self.pk_kwarg)
        scope = self.scope(request, kwargs)
        user = self.get_object(request, scope, pk)
        extra: dict[str, Any] = {}
        try:
            extra["activation_link"] = services.user_send_activation(
                actor=actor_of(request.user),
                user=user,
            )
            extra["link_sent"] = True
        except ApplicationError as exc:
            extra["panel_error"] = exc.message
        ctx = {**scope, "crud": self, **self._detail_context(request, scope, user, **extra)}
        if getattr(request, "htmx", False):
            return render_htmx(request, self.template, ctx, partial="details")
        return render_htmx(request, self.template, self.context(request, scope, panel="details", **ctx))

    def urls(self) -> list[URLPattern]:
        return [
            *super().urls(),
            path(
                f"{self.route}<id:{self.pk_kwarg}>/send-activation/",
                require_POST(self.send_activation_view),
                name=f"{self.name_prefix}send_activation",
            ),
        ]


class CustomerUserPages(UserPages):
    namespace = "customers"
    name_prefix = "user_"
    route = "<id:customer_id>/users/"
    section = "customers"
    role = Role.CUSTOMER_USER
    singular = "customer user"

    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        require_tenant_admin(actor_of(request.user))
        customer = customer_get(actor=actor_of(request.user), customer_id=kwargs["customer_id"])
        return {
            "customer": customer,
            "url_kwargs": {"customer_id": customer.pk},
            "heading": f"Users of {customer.company_name}",
            "create_label": "Create customer user",
        }

    def filters(self, scope: Scope) -> dict[str, Any]:
        return {"customer": scope["customer"]}


class TenantAdminPages(UserPages):
    """A tenant administrator's view of its fellow administrators."""

    namespace = "users"
    name_prefix = "admin_"
    route = "administrators/"
    section = "administration"
    role = Role.TENANT_ADMIN
    singular = "administrator"

    @override
    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        tenant = require_tenant_admin(actor_of(request.user))
        return {"heading": "Administrators", "create_label": "Create administrator", "tenant": tenant}

    def filters(self, scope: Scope) -> dict[str, Any]:
        return {"tenant_id": scope["tenant"].pk}


class SystemTenantAdminPages(UserPages):
    """A system administrator's view of one tenant's administrators."""

    namespace = "tenants"
    name_prefix = "admin_"
    route = "<id:tenant_id>/admins/"
    section = "tenants"
    role = Role.TENANT_ADMIN
    singular = "tenant administrator"

    def scope(self, request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
        tenant = tenant_get(actor=actor_of(request.user), tenant_id=kwargs["tenant_id"])
        return {
            "tenant": tenant,
            "url_kwargs": {"tenant_id": tenant.pk},
            "heading": f"Administrators of {tenant.name}",
            "create_label": "Create tenant administrator",
        }

    def filters(self, scope: Scope) -> dict[str, Any]:
        return {"tenant_id": scope["tenant"].pk}


customer_user_pages = CustomerUserPages()
tenant_admin_pages = TenantAdminPages()
system_tenant_admin_pages = SystemTenantAdminPages()
