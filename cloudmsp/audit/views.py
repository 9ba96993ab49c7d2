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
    qs = audit_event_list(
        actor=actor_of(request.user),
        search=params.search,
        ordering=params.ordering,
        outcome=outcome,
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
    }
    return render_htmx(request, "audit/list.html", context, partial="table")
