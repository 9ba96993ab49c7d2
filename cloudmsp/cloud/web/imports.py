"""ADMINISTRATION > ACCOUNT MANAGEMENT > Import assignments: account-to-customer mappings from a
CSV file (cloud.services.imports), through the shared upload, diff and Apply page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from cloudmsp.cloud.services.imports import assignments_import
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.imports import ImportPage
from cloudmsp.web.ratelimit import rate_limit

ASSIGNMENTS = ImportPage(
    kind="assignments",
    title="Import account assignments",
    service=assignments_import,
    columns="account_id (the 12-digit AWS account id) and customer (the company name; empty: no customer).",
    back="cloud:accounts",
    back_label="Account Management",
)


@require_http_methods(["GET", "POST"])
@rate_limit("bulk")
@tenant_admin_page
def import_assignments(request: HttpRequest, admin: Admin) -> HttpResponse:
    return ASSIGNMENTS.render(request, admin.actor)
