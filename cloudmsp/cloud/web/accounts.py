"""ADMINISTRATION > ACCOUNT MANAGEMENT: the account lists (all, AWS > MSP, AWS > Non-MSP),
adding and connecting accounts, sync, validation, edit and delete."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cloudmsp.cloud import selectors
from cloudmsp.cloud.forms import AccountAddForm, AccountEditForm, ConnectForm
from cloudmsp.cloud.models import Category, JobKind, Kind
from cloudmsp.cloud.services import accounts as account_services
from cloudmsp.cloud.services import sync as sync_services
from cloudmsp.cloud.web.common import account_list_page, accounts_csv, connect_context, notify
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.helpers import (
    apply_errors,
    htmx_redirect,
    list_context,
    list_params,
    render_htmx,
    wants_csv,
)
from cloudmsp.web.ratelimit import rate_limit

CATEGORY_OF = {"msp": Category.MSP, "non-msp": Category.NON_MSP}


@require_GET
@tenant_admin_page
def account_management(request: HttpRequest, admin: Admin) -> HttpResponseBase:
    """All the tenant's cloud accounts, with the left navigation panel."""
    context = account_list_page(request, admin.actor, target="account-table", label="accounts", section="all")
    if wants_csv(request):
        return accounts_csv(context["queryset"])
    return render_htmx(request, "cloud/all_accounts.html", context, partial="table")


@require_GET
@tenant_admin_page
def msp_list(request: HttpRequest, admin: Admin) -> HttpResponseBase:
    params = list_params(request, default_ordering="account_id", allowed=selectors.ACCOUNT_ORDERINGS)
    qs = selectors.msp_account_list(actor=admin.actor, search=params.search, ordering=params.ordering)
    if wants_csv(request):
        return accounts_csv(qs)
    context = {
        **list_context(request, params=params, qs=qs, target="msp-table", label="MSP accounts"),
        "nav": "msp",
    }
    return render_htmx(request, "cloud/msp_list.html", context, partial="table")


@require_GET
@tenant_admin_page
def non_msp_list(request: HttpRequest, admin: Admin) -> HttpResponseBase:
    context = account_list_page(
        request,
        admin.actor,
        target="non-msp-table",
        label="Non-MSP accounts",
        section="non_msp",
        offered=("customer", "onboarding_status", "aws_state", "health"),
        kind=Kind.STANDALONE,
    )
    if wants_csv(request):
        return accounts_csv(context["queryset"])
    return render_htmx(request, "cloud/non_msp_list.html", context, partial="table")


@require_http_methods(["GET", "POST"])
@tenant_admin_page
def account_add(request: HttpRequest, admin: Admin, category: str) -> HttpResponse:
    """Add an MSP or Non-MSP account: account id and name, then the connect step."""
    if category not in CATEGORY_OF:
        raise ApplicationError("Unknown account category.")
    form = AccountAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = account_services.account_create(
                actor=admin.actor, category=CATEGORY_OF[category], **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            ctx = {**connect_context(admin.actor, account), "form": ConnectForm(), "just_added": True}
            response = render_htmx(request, "cloud/connect.html", ctx, partial="dialog")
            response["HX-Trigger"] = json.dumps({"accounts-changed": {}})
            return response
    status = 422 if request.method == "POST" else 200
    ctx = {"form": form, "category": category, "msp": category == "msp"}
    return render_htmx(request, "cloud/add_account.html", ctx, partial="dialog", status=status)


TEMPLATE_KEYS = {"role": "cloudformation_template", "stackset": "stackset_template"}


@require_GET
@tenant_admin_page
def template_download(request: HttpRequest, admin: Admin, account_id: int, kind: str) -> HttpResponse:  # noqa: ARG001
    """The account's CloudFormation template (`role`), or a management account's StackSet
    template (`stackset`), as a .yaml file."""
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    if kind == "stackset" and account.kind != Kind.MANAGEMENT:
        raise Http404("Only an MSP account has an organization to deploy a StackSet to.")
    setup = account_services.account_setup_documents(actor=admin.actor, account=account)
    body = setup[TEMPLATE_KEYS[kind]]
    if body is None:
        return HttpResponse(
            f"The template names the portal's AWS account, which could not be read: {setup['portal_error']}",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(body, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cloudmsp-{kind}-{account.account_id}.yaml"'
    return response


@require_http_methods(["GET", "POST"])
@rate_limit("validate")
@tenant_admin_page
def account_connect(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    """Show the external id, trust policy and template; validate the pasted Role ARN."""
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    account_services.account_require_connectable(account)
    form = ConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = account_services.account_connect(
            actor=admin.actor, account=account, role_arn=form.cleaned_data["role_arn"]
        )
        if result.ok:
            if account.kind == Kind.MANAGEMENT:
                job = sync_services.sync_start(actor=admin.actor, account=account)
                ctx = {"job": job, "account": account, "title": f"Discovering the accounts of {account.account_id}"}
                response = render_htmx(request, "cloud/job.html", ctx, partial="dialog")
                response["HX-Trigger"] = json.dumps({"accounts-changed": {}})
                return response
            return notify(request, f"Account {account.account_id} is connected. {result.message}")
        form.add_error("role_arn", f"{result.step} failed: {result.message}")
    status = 422 if request.method == "POST" else 200
    return render_htmx(
        request,
        "cloud/connect.html",
        {**connect_context(admin.actor, account), "form": form},
        partial="dialog",
        status=status,
    )


@require_POST
@rate_limit("validate")
@tenant_admin_page
def account_validate(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    result = account_services.account_validate(actor=admin.actor, account=account)
    if result.ok:
        # The check's own message begins "The role works."; say it once (issue 15, defect 5).
        more = result.message.removeprefix("The role works.").strip()
        return notify(request, f"The role of {account.account_id} works. {more}".strip())
    return notify(request, f"The role of {account.account_id} failed: {result.step}: {result.message}", error=True)


@require_POST
@rate_limit("sync")
@tenant_admin_page
def account_sync(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    account = selectors.account_get(actor=admin.actor, account_id=account_id, kind=Kind.MANAGEMENT)
    try:
        job = sync_services.sync_start(actor=admin.actor, account=account)
    except ConflictError as exc:
        job = selectors.job_get(actor=admin.actor, job_id=exc.extra["job"])
    ctx = {"job": job, "account": account, "title": f"Discovering the accounts of {account.account_id}"}
    return render_htmx(request, "cloud/job.html", ctx, partial="dialog")


@require_GET
@tenant_admin_page
def job_status(request: HttpRequest, admin: Admin, job_id: int) -> HttpResponse:
    """The progress bar of a job; htmx polls it until the job has finished."""
    job = selectors.job_get(actor=admin.actor, job_id=job_id)
    response = render_htmx(request, "cloud/job.html", {"job": job, "account": job.account}, partial="progress")
    if job.finished:
        response["HX-Trigger"] = json.dumps({"accounts-changed": {}})
    return response


@require_http_methods(["GET", "POST"])
@tenant_admin_page
def account_edit(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    form = AccountEditForm(request.POST or None, initial={"name": account.name})
    if request.method == "POST" and form.is_valid():
        try:
            account_services.account_update(actor=admin.actor, account=account, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return notify(request, f"Account {account.account_id} renamed.")
    status = 422 if request.method == "POST" else 200
    return render_htmx(
        request, "cloud/edit_account.html", {"form": form, "account": account}, partial="dialog", status=status
    )


@require_http_methods(["GET", "POST"])
@tenant_admin_page
def account_delete(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    error = ""
    if request.method == "POST":
        try:
            members = account_services.account_delete(actor=admin.actor, account=account)
        except ApplicationError as exc:
            error = exc.message
        else:
            if not getattr(request, "htmx", False):
                return htmx_redirect(
                    request, reverse("cloud:msp" if account.kind == Kind.MANAGEMENT else "cloud:non_msp")
                )
            extra = f" with its {members} member account(s)" if members else ""
            return notify(request, f"Account {account.account_id}{extra} removed from the portal.")
    members = account_services.account_delete_impact(account=account)
    ctx = {"account": account, "members": members, "error": error, "sync_kind": JobKind.SYNC}
    return render_htmx(request, "cloud/delete_account.html", ctx, partial="dialog", status=409 if error else 200)
