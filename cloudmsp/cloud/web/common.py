"""What the cloud pages share: the answer to an htmx action, the AWS state filter and the role
set-up documents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse

from cloudmsp.cloud import selectors
from cloudmsp.cloud.exports import ACCOUNT_COLUMNS
from cloudmsp.cloud.models import AwsState, CloudAccount, Health, Kind, OnboardingStatus
from cloudmsp.cloud.selectors import FILTERS
from cloudmsp.cloud.services import accounts as account_services
from cloudmsp.cloud.services import association
from cloudmsp.core.csvfiles import csv_response
from cloudmsp.core.errors import ApplicationError
from cloudmsp.core.text import validate_plain_text
from cloudmsp.customers.selectors import customer_picker
from cloudmsp.tenancy.access import Actor
from cloudmsp.web.helpers import (
    MAX_SEARCH,
    ListFilter,
    ListParams,
    list_context,
    list_filter,
    list_params,
    render_htmx,
    text_filter,
)


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


# The filters an account list page may offer, by their query parameter (the API's names).
PAGE_FILTERS = ("kind", "customer", "onboarding_status", "aws_state", "ou", "health")


def customer_filter(request: HttpRequest, actor: Actor) -> ListFilter:
    """The customer filter (`?customer=` an id, or `none`): unassigned, the customer asked for
    and the first of the others by name (a customer's panel links to its filtered list)."""
    customers, _more = customer_picker(actor=actor, selected=request.GET.get("customer"))
    choices = [("none", "No customer"), *((str(c.pk), c.company_name) for c in customers)]
    return list_filter(request, "customer", "Customer", choices)


def account_filters(request: HttpRequest, actor: Actor, offered: tuple[str, ...] = PAGE_FILTERS) -> list[ListFilter]:
    """The filters of an account list page, from its query string, in PAGE_FILTERS order."""
    make = {
        "kind": lambda: list_filter(request, "kind", "Type", Kind.choices),
        "customer": lambda: customer_filter(request, actor),
        "onboarding_status": lambda: list_filter(request, "onboarding_status", "Onboarding", OnboardingStatus.choices),
        "aws_state": lambda: aws_state_filter(request),
        "ou": lambda: text_filter(request, "ou", "OU path starts with", max_length=1000),
        "health": lambda: health_filter(request),
    }
    return [make[name]() for name in PAGE_FILTERS if name in offered]


def filter_values(filters: list[ListFilter], **fixed: Any) -> dict[str, Any]:
    """The selector's `filters` for a page: what its filters ask for, and what the page fixes
    (the members of one MSP account, Non-MSP accounts only)."""
    return {**fixed, **{f.name: f.value for f in filters if f.value}}


MAX_MATCH = 4000


def match_query(params: ListParams, filters: dict[str, Any]) -> str:
    """The list's search and filters as a query string: what "all N accounts matching this
    filter" carries to the bulk dialogs, which evaluate it again on the server (parse_match)."""
    query = QueryDict(mutable=True)
    # Never empty, even for a list with no filter: "all matching" is told apart by it.
    query["scope"] = "all"
    if params.search:
        query["q"] = params.search
    for key, value in filters.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


def parse_match(raw: str) -> tuple[str, dict[str, str]]:
    """(search, filters) from a `match_query`; unknown keys are dropped, and the selector checks
    every value (an id that is not one matches nothing)."""
    if len(raw) > MAX_MATCH:
        # Cut short, it could lose the filters the page fixes and select more than it showed.
        raise ValidationError("The filter is too long to select all its accounts; narrow it or tick the rows.")
    data = QueryDict(raw)
    search = data.get("q", "")[:MAX_SEARCH].strip()
    filters = {key: data[key] for key in FILTERS if data.get(key)}
    for value in (search, *filters.values()):
        validate_plain_text(value)  # a NUL or control character, decoded from %00: refused
        if len(value) > 1000:
            raise ValidationError("The filter is too long to select all its accounts; narrow it or tick the rows.")
    return search, filters


def account_list_page(
    request: HttpRequest,
    actor: Actor,
    *,
    target: str,
    label: str,
    section: str,
    offered: tuple[str, ...] = PAGE_FILTERS,
    **fixed: Any,
) -> dict[str, Any]:
    """The context of an account list page with its filters (`offered`), what it fixes (`fixed`,
    e.g. the MSP account whose members it lists) and the query of "all N matching"."""
    params = list_params(request, default_ordering="account_id", allowed=selectors.ACCOUNT_ORDERINGS)
    filters = account_filters(request, actor, offered)
    values = filter_values(filters, **fixed)
    qs = selectors.account_list(actor=actor, search=params.search, ordering=params.ordering, filters=values)
    return {
        **list_context(request, params=params, qs=qs, target=target, label=label, filters=filters),
        "nav": section,
        "select_form": f"{target}-form",
        "match": match_query(params, values),
        "queryset": qs,  # every account of the filter: the page's CSV export (accounts_csv)
    }


@dataclass(frozen=True)
class Selection:
    """The accounts a bulk dialog acts on: the checked rows, or, with `match` (a match_query),
    every account matching the list's filter, evaluated again on the server at each step."""

    ids: list[str]
    match: str = ""


def selected_accounts(request: HttpRequest, actor: Actor) -> Selection:
    """The checked ids (`accounts`), or all the accounts matching `match` when `all_matching`
    is set; ApplicationError when there are more than a bulk change may take."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        if data.get("all_matching") == "1":
            raw = data.get("match", "")
            search, filters = parse_match(raw)
            ids = association.accounts_matching(actor=actor, search=search, filters=filters)
            return Selection([str(pk) for pk in ids], match=raw)
        raw_ids = data.getlist("accounts")
        association.require_bulk_size(len(raw_ids))
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0]) from None
    return Selection(raw_ids)


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
