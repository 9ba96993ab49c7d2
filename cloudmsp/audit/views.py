from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from cloudmsp.audit.models import Outcome
from cloudmsp.audit.selectors import AUDIT_ORDERINGS, audit_event_list, audit_rows
from cloudmsp.tenancy.access import actor_of, require_tenant_admin
from cloudmsp.web.helpers import PER_PAGE_CHOICES, list_filter, list_params, paginate, render_htmx


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    params = list_params(request, default_ordering="-created_at", allowed=AUDIT_ORDERINGS)
    outcome_filter = list_filter(request, "outcome", "Outcome", Outcome.choices)
    outcome = outcome_filter.value
    actor = actor_of(request.user)
    # One object's events (the dashboard's recent events link to them): `object_type` and
    # `object_id` as the API's filters, cut to their columns' length.
    object_type = request.GET.get("object_type", "")[:64].strip()
    object_id = request.GET.get("object_id", "")[:64].strip() if object_type else ""
    qs = audit_event_list(
        actor=actor,
        search=params.search,
        ordering=params.ordering,
        outcome=outcome,
        object_type=object_type,
        object_id=object_id,
    )
    page = paginate(qs, params)
    context = {
        "section": "administration",
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "page": page,
        "rows": audit_rows(page.object_list, tenant_id=require_tenant_admin(actor).pk),
        "list_url": request.path,
        "target": "audit-table",
        "label": "audit events",
        "outcome": outcome,
        "list_filters": [outcome_filter],
        "object_type": object_type,
        "object_id": object_id,
    }
    return render_htmx(request, "audit/list.html", context, partial="table")
