"""ADMINISTRATION > Jobs: the tenant's background runs (syncs, onboarding, role checks, rules),
newest first, filtered by state and kind; the dashboard's job counts link here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import JobKind, JobState
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.helpers import list_context, list_filter, list_params, render_htmx


@require_GET
@tenant_admin_page
def job_list_page(request: HttpRequest, admin: Admin) -> HttpResponse:
    params = list_params(request, default_ordering="-created_at", allowed=selectors.JOB_ORDERINGS)
    state = list_filter(request, "state", "State", JobState.choices)
    kind = list_filter(request, "kind", "Kind", JobKind.choices)
    qs = selectors.job_list(
        actor=admin.actor, search=params.search, ordering=params.ordering, state=state.value, kind=kind.value
    )
    context = list_context(request, params=params, qs=qs, target="job-table", label="jobs", filters=[state, kind])
    return render_htmx(request, "cloud/jobs.html", context, partial="table")
