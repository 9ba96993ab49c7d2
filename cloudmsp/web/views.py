from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.selectors import customer_get
from cloudmsp.web.helpers import PER_PAGE_CHOICES, list_params, paginate, render_htmx

HOME_ACCOUNT_ORDERINGS = {
    "account_id": ("account_id", "id"),
    "-account_id": ("-account_id", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page: tenants, customers, or a customer user's own customer."""
    user = request.user
    if user.is_sysadmin:  # type: ignore[union-attr]
        return redirect("tenancy:list")
    if user.is_tenant_admin:  # type: ignore[union-attr]
        return redirect("customers:list")
    customer = customer_get(actor=user, customer_id=user.customer_id)  # type: ignore[arg-type, union-attr]
    params = list_params(request, default_ordering="account_id", allowed=HOME_ACCOUNT_ORDERINGS)
    qs = CloudAccount.objects.for_tenant(customer.tenant_id).filter(customer=customer)
    if params.search:
        qs = qs.filter(account_id__contains=params.search) | qs.filter(name__icontains=params.search)
    qs = qs.order_by(*HOME_ACCOUNT_ORDERINGS[params.ordering])
    context = {
        "section": "home",
        "customer": customer,
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "page": paginate(qs, params),
        "list_url": request.path,
        "target": "account-table",
        "label": "accounts",
    }
    return render_htmx(request, "web/customer_home.html", context, partial="table")


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
