"""ADMINISTRATION > Health: roles broken first, an account's health timeline, and the scheduler's
intervals (SPEC 9)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import Health, JobKind
from cloudmsp.cloud.services.schedule import schedule_update
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.helpers import (
    apply_errors,
    list_context,
    list_filter,
    list_params,
    render_htmx,
)


@require_GET
@tenant_admin_page
def health_page(request: HttpRequest, admin: Admin) -> HttpResponse:
    params = list_params(request, default_ordering="health", allowed=selectors.ACCOUNT_ORDERINGS)
    health = list_filter(request, "health", "Health", Health.choices)
    qs = selectors.health_list(actor=admin.actor, search=params.search, ordering=params.ordering, health=health.value)
    counts = selectors.health_counts(actor=admin.actor)
    latest = selectors.latest_tenant_job(actor=admin.actor, kind=JobKind.VALIDATE)
    context = {
        **list_context(request, params=params, qs=qs, target="health-table", label="accounts", filters=[health]),
        "counts": counts,
        "latest_job": latest,
        "tenant": Tenant.objects.get(pk=admin.tenant.pk),
    }
    return render_htmx(request, "cloud/health.html", context, partial="table")


@require_GET
@tenant_admin_page
def account_health(request: HttpRequest, admin: Admin, account_id: int) -> HttpResponse:
    account = selectors.account_get(actor=admin.actor, account_id=account_id)
    context = {
        "section": "administration",
        "account": account,
        "timeline": selectors.account_health_timeline(actor=admin.actor, account=account),
        "recent": list(selectors.account_health_checks(actor=admin.actor, account=account)[:20]),
        "ownership": list(selectors.account_ownership(actor=admin.actor, account=account)[:50]),
    }
    return render_htmx(request, "cloud/account_health.html", context)


class ScheduleForm(forms.ModelForm[Tenant]):
    class Meta:
        model = Tenant
        fields = ["sync_interval_minutes", "validation_interval_minutes", "check_retention_days"]
        labels = {
            "sync_interval_minutes": "Sync every MSP account every (minutes)",
            "validation_interval_minutes": "Validate every role every (minutes)",
            "check_retention_days": "Keep checks for (days)",
        }
        help_texts = {
            "sync_interval_minutes": "1,440 is once a day.",
            "validation_interval_minutes": "360 is every 6 hours.",
            "check_retention_days": "Checks that changed an account's health are kept for good.",
        }


@require_http_methods(["GET", "POST"])
@tenant_admin_page
def schedule_settings(request: HttpRequest, admin: Admin) -> HttpResponse:
    tenant = Tenant.objects.get(pk=admin.tenant.pk)
    saved = False
    status = 200
    if request.method == "POST":
        form = ScheduleForm(request.POST, instance=Tenant.objects.get(pk=tenant.pk))
        if form.is_valid():
            try:
                tenant = schedule_update(actor=admin.actor, data=form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 422
            else:
                saved = True
                form = ScheduleForm(instance=tenant)
        else:
            status = 422
    else:
        form = ScheduleForm(instance=tenant)
    return render_htmx(
        request, "cloud/schedule.html", {"section": "administration", "form": form, "saved": saved}, status=status
    )
