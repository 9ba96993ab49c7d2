"""What the cloud pages share: the answer to an htmx action, the AWS state filter and the role
set-up documents."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse

from cloudmsp.cloud.exports import ACCOUNT_COLUMNS
from cloudmsp.cloud.models import AwsState, CloudAccount, Health
from cloudmsp.cloud.services import accounts as account_services
from cloudmsp.core.csvfiles import csv_response
from cloudmsp.tenancy.access import Actor
from cloudmsp.web.helpers import ListFilter, list_filter, render_htmx


def notify(
    request: HttpRequest, message: str, *, events: tuple[str, ...] = ("accounts-changed",), error: bool = False
) -> HttpResponse:
    """A short answer to an htmx action: the message in the flash area, the dialog closed and
    the lists refreshed."""
    response = render_htmx(request, "cloud/_flash.html", {"message": message, "error": error})
    response["HX-Retarget"] = "#flash"
    response["HX-Reswap"] = "innerHTML"
    response["HX-Trigger"] = json.dumps({**{e: {} for e in events}, "close-modal": {}})
    return response


def accounts_csv(qs: Any) -> StreamingHttpResponse:
    """An account list's CSV export (every account of `qs`, streamed; cloud.exports)."""
    return csv_response(qs, ACCOUNT_COLUMNS, filename="cloud-accounts.csv")


def aws_state_filter(request: HttpRequest) -> ListFilter:
    """The AWS state filter of the account lists (`?aws_state=`, as in the API)."""
    return list_filter(request, "aws_state", "AWS state", AwsState.choices)


def health_filter(request: HttpRequest) -> ListFilter:
    """The role health filter of the account lists (`?health=`, as in the API)."""
    return list_filter(request, "health", "Health", Health.choices)


def connect_context(actor: Actor, account: CloudAccount) -> dict[str, Any]:
    """The role set-up documents, formatted for the connect and onboard windows."""
    setup = account_services.account_setup_documents(actor=actor, account=account)
    return {
        "account": account,
        "portal_account": setup["portal_account_id"] or "<the portal's AWS account>",
        "portal_error": setup["portal_error"],
        "trust_policy": json.dumps(setup["trust_policy"], indent=2) if setup["trust_policy"] else "",
        "access_policy": json.dumps(setup["access_policy"], indent=2),
        "template": setup["cloudformation_template"] or "",
        "stackset_template": setup["stackset_template"] or "",
        "connect_url": reverse("cloud:connect", kwargs={"account_id": account.pk}),
    }
