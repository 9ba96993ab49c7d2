"""The start page: which app's page each role begins at (wiring, like the URLs)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from cloudmsp.cloud.web.dashboard import dashboard
from cloudmsp.cloud.web.home import customer_home
from cloudmsp.tenancy.access import actor_of


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Tenants for a system administrator, the dashboard for a tenant administrator, and a
    customer user's own accounts."""
    actor = actor_of(request.user)
    if actor.is_sysadmin:
        return redirect("tenants:list")
    if actor.is_tenant_admin:
        return dashboard(request)
    return customer_home(request)
