"""Django's admin over the benchmark's accounts and customers: ordinary ModelAdmins (list_display,
search, the default changelist, list_per_page = 50), on a site that lets the tenant administrator
in (cloudmsp's users have no is_staff or model permissions) and shows it its own tenant's rows,
as the portal's pages do. Enabled by config/settings/bench.py only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.models import Customer


class BenchAdminSite(admin.AdminSite):
    site_header = "cloudmsp (benchmark only)"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(user.is_authenticated and user.is_tenant_admin)


class TenantModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(tenant_id=request.user.tenant_id)  # type: ignore[union-attr]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return True

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CloudAccountAdmin(TenantModelAdmin):
    list_display = ("account_id", "name", "kind", "customer", "onboarding_status", "aws_state", "health")
    search_fields = ("account_id", "name", "email", "ou_path")


class CustomerAdmin(TenantModelAdmin):
    list_display = ("company_name", "first_name", "last_name", "email", "country", "account_count")
    search_fields = ("company_name", "email")


site = BenchAdminSite(name="bench_admin")
site.register(CloudAccount, CloudAccountAdmin)
site.register(Customer, CustomerAdmin)
