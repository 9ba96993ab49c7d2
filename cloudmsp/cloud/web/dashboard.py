"""The tenant administrator's start page: the tenant's accounts counted, each count a link to
the list that shows exactly those, onboarding progress per MSP account, and recent work."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from cloudmsp.audit.selectors import audit_event_list
from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import AwsState, Health, JobState, OnboardingStatus
from cloudmsp.tenancy.pages import Admin, tenant_admin_page
from cloudmsp.web.helpers import render_htmx


def _link(name: str, **query: str) -> str:
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def _tiles(counts: dict[str, int], choices: list[tuple[str, str]], url: str, param: str) -> list[dict[str, Any]]:
    """One entry per choice: its label, count and the filtered list's URL."""
    return [
        {"label": label, "value": value, "count": counts.get(value, 0), "url": f"{url}?{urlencode({param: value})}"}
        for value, label in choices
    ]


def _bars(msp_accounts: list[Any]) -> list[dict[str, Any]]:
    """Onboarding progress of each MSP account: onboarded of its members, as a percentage."""
    bars = []
    for account in msp_accounts:
        members = reverse("cloud:members", kwargs={"account_id": account.pk})
        total, done = account.member_count, account.onboarded_count
        bars.append(
            {
                "account": account,
                "total": total,
                "done": done,
                "percent": round(100 * done / total) if total else 0,
                "members_url": members,
                "onboarded_url": f"{members}?{urlencode({'onboarding_status': OnboardingStatus.ONBOARDED})}",
                "pending_url": f"{members}?{urlencode({'onboarding_status': OnboardingStatus.NOT_ONBOARDED})}",
            }
        )
    return bars


@require_GET
@tenant_admin_page
def dashboard(request: HttpRequest, admin: Admin) -> HttpResponse:
    counts = selectors.dashboard_counts(actor=admin.actor)
    accounts = reverse("cloud:accounts")
    health = reverse("cloud:health")
    context = {
        "section": "dashboard",
        "counts": counts,
        "accounts_url": accounts,
        "unassigned_url": _link("cloud:accounts", customer="none"),
        "broken_url": _link("cloud:health", health=Health.BROKEN),
        "aws_states": _tiles(counts["aws_state"], AwsState.choices, accounts, "aws_state"),
        "onboarding": _tiles(counts["onboarding"], OnboardingStatus.choices, accounts, "onboarding_status"),
        "health": _tiles(counts["health"], Health.choices, health, "health"),
        "bars": _bars(selectors.dashboard_msp_progress(actor=admin.actor)),
        "jobs": selectors.recent_jobs(actor=admin.actor),
        "jobs_url": reverse("cloud:jobs"),
        "job_states": _tiles(selectors.job_counts(actor=admin.actor), JobState.choices, reverse("cloud:jobs"), "state"),
        "events": list(audit_event_list(actor=admin.actor)[: selectors.DASHBOARD_RECENT]),
    }
    return render_htmx(request, "cloud/dashboard.html", context)
