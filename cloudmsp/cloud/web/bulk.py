"""Onboard Accounts and Validate Roles on the checked rows (or all the accounts matching the
list's filter): a confirmation, then a job with its progress bar; the job's page lists how each
account went and offers "Retry the failed ones"."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods, require_POST

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import Job
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.services import bulk_jobs
from cloudmsp.cloud.web.common import selected_accounts
from cloudmsp.core.errors import ApplicationError
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.helpers import render_htmx
from cloudmsp.web.ratelimit import rate_limit

TITLES = {"onboard": "Onboard Accounts", "validate": "Validate Roles"}


def _job_dialog(request: HttpRequest, job: Job) -> HttpResponse:
    return render_htmx(request, "cloud/job.html", {"job": job, "title": TITLES[job.kind]}, partial="dialog")


def _bulk(request: HttpRequest, admin: Admin, kind: str) -> HttpResponse:
    selection = selected_accounts(request, admin.actor)
    role_name = (request.POST.get("role_name") or "")[:64]
    error = ""
    if request.method == "POST" and selection.ids:
        try:
            if kind == "onboard":
                job = bulk_jobs.bulk_onboard_start(actor=admin.actor, account_ids=selection.ids, role_name=role_name)
            else:
                job = bulk_jobs.bulk_validate_start(actor=admin.actor, account_ids=selection.ids)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return _job_dialog(request, job)
    ctx = {
        "kind": kind,
        "title": TITLES[kind],
        "selected": selection.ids,
        "match": selection.match,
        "nothing_selected": not selection.ids,
        "role_name": role_name or provider_for().default_role_name,
        "error": error,
    }
    return render_htmx(request, "cloud/bulk.html", ctx, partial="dialog", status=422 if error else 200)


@require_http_methods(["GET", "POST"])
@rate_limit("bulk")
@tenant_admin_page
def bulk_onboard(request: HttpRequest, admin: Admin) -> HttpResponse:
    """Onboard Accounts: every selected member account automatically, as one job."""
    return _bulk(request, admin, "onboard")


@require_http_methods(["GET", "POST"])
@rate_limit("bulk")
@tenant_admin_page
def bulk_validate(request: HttpRequest, admin: Admin) -> HttpResponse:
    """Validate Roles: the role of every selected account, as one job."""
    return _bulk(request, admin, "validate")


@require_POST
@rate_limit("bulk")
@tenant_admin_page
def job_retry(request: HttpRequest, admin: Admin, job_id: int) -> HttpResponse:
    """Retry the failed ones: a new job for only the accounts that failed in this one."""
    job = selectors.job_get(actor=admin.actor, job_id=job_id)
    try:
        retry = bulk_jobs.bulk_retry(actor=admin.actor, job=job)
    except (ApplicationError, ValidationError) as exc:  # an account deleted since: a ValidationError
        message = exc.message if isinstance(exc, ApplicationError) else exc.messages[0]
        ctx = {"job": job, "title": TITLES.get(job.kind), "retry_error": message}
        return render_htmx(request, "cloud/job.html", ctx, partial="dialog", status=400)
    return _job_dialog(request, retry)
