"""A customer user's start page: its company, its cloud accounts and their health."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import Health
from cloudmsp.customers.selectors import customer_get
from cloudmsp.tenancy.access import Actor
from cloudmsp.tenancy.pages import signed_in_page
from cloudmsp.web.helpers import PER_PAGE_CHOICES, list_filter, list_params, paginate, render_htmx


@require_GET
@signed_in_page
def customer_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    customer = customer_get(actor=actor, customer_id=actor.customer_id)
    params = list_params(request, default_ordering="account_id", allowed=selectors.CUSTOMER_ACCOUNT_ORDERINGS)
    health = list_filter(request, "health", "Health", Health.choices)
    accounts = selectors.customer_accounts(
        customer=customer, search=params.search, ordering=params.ordering, health=health.value
    )
    context = {
        "section": "home",
        "customer": customer,
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "page": paginate(accounts, params),
        "list_url": request.path,
        "target": "account-table",
        "label": "accounts",
        "list_filters": [health],
        "health": health,
        "health_label": dict(Health.choices).get(health.value, ""),
        "health_counts": selectors.customer_health_counts(customer=customer),
    }
    return render_htmx(request, "cloud/customer_home.html", context, partial="table")
