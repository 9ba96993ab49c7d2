"""Manage Customer Accounts: the members of an MSP account with their customer and onboarding
state; Associate Account to Customer (Link to Customer, CREATE CUSTOMER, FINISH), Remove Account
from Customer (REMOVE), Onboard Account (Onboard Member Account, ADD), Remove Role ARN (Ok).
Non-MSP accounts use the same association dialogs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from cloudmsp.cloud import selectors
from cloudmsp.cloud.forms import LinkForm, OnboardForm
from cloudmsp.cloud.models import JobKind, Kind
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.services import association, onboarding
from cloudmsp.cloud.web.common import account_list_page, accounts_csv, connect_context, notify, selected_accounts
from cloudmsp.core.errors import ApplicationError, ConflictError
from cloudmsp.core.text import validate_plain_text
from cloudmsp.customers.forms import CustomerQuickForm
from cloudmsp.customers.selectors import customer_for_field, customer_picker
from cloudmsp.customers.services import customer_create
from cloudmsp.tenancy.access import Actor
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.helpers import MAX_SEARCH, apply_errors, render_htmx, wants_csv
from cloudmsp.web.ratelimit import rate_limit


@require_GET
@tenant_admin_page
def members(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponseBase:
    """Manage Customer Accounts of one MSP account."""
    management = selectors.account_get(actor=admin.actor, account_id=account_id, kind=Kind.MANAGEMENT)
    context = {
        **account_list_page(
            request,
            admin.actor,
            target="member-table",
            label="member accounts",
            section="msp",
            offered=("customer", "onboarding_status", "aws_state", "ou", "health"),
            parent=management.pk,
        ),
        "management": management,
        "sync_job": selectors.latest_job(actor=admin.actor, account=management, kind=JobKind.SYNC),
    }
    if wants_csv(request):
        return accounts_csv(context["queryset"])
    return render_htmx(request, "cloud/members.html", context, partial="table")


def _seen_state(request: HttpRequest, actor: Actor, selected: list[str]) -> str:
    """Which customer each selected account had when the dialog opened: carried by the dialog
    (a hidden field), so FINISH / REMOVE is refused if someone changed them meanwhile."""
    data = request.POST if request.method == "POST" else request.GET
    return data.get("seen_state", "")[:64] or selectors.account_selection_state(actor=actor, account_ids=selected)


def _link_form(actor: Actor, data: Any = None, initial: Any = None, search: str = "") -> LinkForm:
    """The Link to Customer form; its dropdown offers the customers that the picker's search
    finds (a page of them, however many the tenant has) and keeps the one chosen."""
    form = LinkForm(data, initial=initial)
    chosen = (data or {}).get("customer") or (initial or {}).get("customer")
    customers, more = customer_picker(actor=actor, search=search, selected=chosen)
    field: Any = form.fields["customer"]
    field.choices = [("", "Select a customer…"), *((c.pk, c.company_name) for c in customers)]
    if search and not chosen and len(customers) == 1:
        form.initial = {**form.initial, "customer": customers[0].pk}
    form.picker = {"search": search, "shown": len(customers), "more": more}  # type: ignore[attr-defined]
    return form


def _picker_search(request: HttpRequest) -> str:
    data = request.POST if request.method == "POST" else request.GET
    typed = data.get("customer_q", "")[:MAX_SEARCH].strip()
    try:
        validate_plain_text(typed)  # a NUL (%00 in a form body) would reach the database
    except ValidationError:
        return ""
    return typed


def _removed_message(selected: int, changed: int) -> str:
    """What Remove Account from Customer says (issue 15, defect 7: "0 changed" read as a success)."""
    if changed == 0:
        return (
            "None of the selected accounts was assigned to a customer, so nothing was removed."
            if selected > 1
            else "The account was not assigned to a customer, so nothing was removed."
        )
    unassigned = selected - changed
    also = f" {unassigned} of them had no customer." if unassigned else ""
    return f"{changed} account{'s' if changed != 1 else ''} removed from {'their customers' if changed != 1 else 'its customer'}.{also}"


@require_GET
@tenant_admin_page
def link_customers(request: HttpRequest, admin: Admin) -> HttpResponse:
    """The customer picker of Link to Customer: the dropdown for what is typed in its search box."""
    form = _link_form(
        admin.actor, initial={"customer": request.GET.get("customer", "")}, search=_picker_search(request)
    )
    return render_htmx(request, "cloud/link.html", {"form": form}, partial="customer_field")


@require_http_methods(["GET", "POST"])
@rate_limit("bulk")
@tenant_admin_page
def link(request: HttpRequest, admin: Admin) -> HttpResponse:
    """The Link to Customer window; FINISH links every checked account, all or nothing."""
    selection = selected_accounts(request, admin.actor)
    selected = selection.ids
    if not selected:
        return render_htmx(request, "cloud/link.html", {"nothing_selected": True}, partial="dialog")
    form = _link_form(
        admin.actor, request.POST if request.method == "POST" else None, request.GET, _picker_search(request)
    )
    state = _seen_state(request, admin.actor, selected)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_for_field(actor=admin.actor, customer_id=form.cleaned_data["customer"])
            changed = association.accounts_associate(
                actor=admin.actor, customer=customer, account_ids=selected, seen_state=state
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            return notify(
                request, f"{len(set(selected))} account(s) linked to {customer.company_name} ({changed} changed)."
            )
    ctx = {"form": form, "selected": selected, "match": selection.match, "state": state}
    return render_htmx(request, "cloud/link.html", ctx, partial="dialog", status=status)


@require_http_methods(["GET", "POST"])
@tenant_admin_page
def link_create_customer(request: HttpRequest, admin: Admin) -> HttpResponse:
    """The Create Customer window opened from Link to Customer; the new customer comes back
    selected in the dropdown, with the same accounts still checked."""
    selection = selected_accounts(request, admin.actor)
    selected = selection.ids
    form = CustomerQuickForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(actor=admin.actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            link_form = _link_form(admin.actor, initial={"customer": customer.pk})
            ctx = {
                "form": link_form,
                "selected": selected,
                "match": selection.match,
                "created": customer,
                "state": _seen_state(request, admin.actor, selected),
            }
            response = render_htmx(request, "cloud/link.html", ctx, partial="dialog")
            response["HX-Trigger"] = '{"customers-changed": {}}'
            return response
    status = 422 if request.method == "POST" else 200
    ctx = {
        "form": form,
        "selected": selected,
        "match": selection.match,
        "state": _seen_state(request, admin.actor, selected),
    }
    return render_htmx(request, "cloud/link.html", ctx, partial="create_customer", status=status)


@require_http_methods(["GET", "POST"])
@rate_limit("bulk")
@tenant_admin_page
def unlink(request: HttpRequest, admin: Admin) -> HttpResponse:
    """Remove Account from Customer: a confirmation; REMOVE disassociates every checked account."""
    selection = selected_accounts(request, admin.actor)
    selected = selection.ids
    state = _seen_state(request, admin.actor, selected) if selected else ""
    error = ""
    status = 200
    if request.method == "POST" and selected:
        try:
            changed = association.accounts_disassociate(actor=admin.actor, account_ids=selected, seen_state=state)
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 422
        except ConflictError as exc:
            error, status = exc.message, 409
        else:
            return notify(request, _removed_message(len(set(selected)), changed))
    ctx = {
        "selected": selected,
        "match": selection.match,
        "error": error,
        "nothing_selected": not selected,
        "state": state,
    }
    return render_htmx(request, "cloud/unlink.html", ctx, partial="dialog", status=status)


@require_http_methods(["GET", "POST"])
@rate_limit("onboard")
@tenant_admin_page
def onboard(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    """The Onboard Member Account window; ADD onboards the account."""
    account = selectors.account_get(actor=admin.actor, account_id=account_id, kind=Kind.MEMBER)
    # `?method=manual`: opened again from an automatic attempt that could not enter the account.
    initial = {"method": "manual"} if request.GET.get("method") == "manual" else {}
    form = OnboardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["method"] == "automatic":
                job = onboarding.onboard_start(actor=admin.actor, account=account, role_name=data["role_name"])
                ctx = {"job": job, "account": account, "title": f"Onboarding {account.account_id}"}
                return render_htmx(request, "cloud/job.html", ctx, partial="dialog")
            result = onboarding.onboard_manual(actor=admin.actor, account=account, role_arn=data["role_arn"])
        except ValidationError as exc:
            apply_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if result.ok:
                return notify(request, f"Account {account.account_id} is onboarded.")
            form.add_error("role_arn", f"{result.step} failed: {result.message}")
    status = 422 if request.method == "POST" else 200
    provider = provider_for(account.provider)
    ctx = {
        **connect_context(admin.actor, account),
        "form": form,
        "onboard_url": reverse("cloud:onboard", kwargs={"account_id": account.pk}),
        "read_only_actions": provider.read_only_actions,
        "org_access_role": account.parent.org_access_role if account.parent else provider.default_org_access_role,
        "fallback_access_role": provider.fallback_access_role,
    }
    return render_htmx(request, "cloud/onboard.html", ctx, partial="dialog", status=status)


@require_http_methods(["GET", "POST"])
@rate_limit("remove_role")
@tenant_admin_page
def remove_role(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    """The Remove Role ARN confirmation; Ok unlinks the account."""
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    error = ""
    if request.method == "POST":
        try:
            note = onboarding.remove_role(actor=admin.actor, account=account)
        except ApplicationError as exc:
            error = exc.message
        else:
            return notify(request, f"Account {account.account_id} is unlinked: the Role ARN is removed. {note}")
    ctx = {"account": account, "error": error}
    return render_htmx(request, "cloud/remove_role.html", ctx, partial="dialog", status=409 if error else 200)
