from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from cloudmsp.audit.models import Outcome
from cloudmsp.audit.selectors import AUDIT_ORDERINGS, audit_event_list
from cloudmsp.tenancy.access import actor_of
from cloudmsp.web.helpers import PER_PAGE_CHOICES, list_params, paginate, render_htmx


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    params = list_params(request, default_ordering="-created_at", allowed=AUDIT_ORDERINGS)
    outcome = request.GET.get("outcome", "")
    if outcome not in Outcome.values:
        outcome = ""
    # One object's events (the dashboard's recent events link to them): `object_type` and
    # `object_id` as the API's filters, cut to their columns' length.
    object_type = request.GET.get("object_type", "")[:64].strip()
    object_id = request.GET.get("object_id", "")[:64].strip() if object_type else ""
    qs = audit_event_list(
        actor=actor_of(request.user),
        search=params.search,
        ordering=params.ordering,
        outcome=outcome,
        object_type=object_type,
        object_id=object_id,
    )
    context = {
        "section": "administration",
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "page": paginate(qs, params),
        "list_url": request.path,
        "target": "audit-table",
        "label": "audit events",
        "outcome": outcome,
        "outcomes": Outcome.choices,
        "object_type": object_type,
        "object_id": object_id,
    }
    return render_htmx(request, "audit/list.html", context, partial="table")
