"""Shared plumbing for the HTML views: list parameters, pagination, htmx partial responses and
mapping service errors onto forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme

from cloudmsp.core.errors import ApplicationError
from cloudmsp.core.pagination import TwoEndedPaginator
from cloudmsp.core.validation import ascii_int

PER_PAGE_CHOICES = (10, 25, 50, 100)
MAX_SEARCH = 200


@dataclass(frozen=True)
class ListParams:
    search: str
    ordering: str
    page: int
    per_page: int


def list_params(request: HttpRequest, *, default_ordering: str, allowed: dict[str, Any]) -> ListParams:
    """Search, sort and page from the query string; anything odd falls back to the default."""
    search = request.GET.get("q", "")[:MAX_SEARCH].strip()
    ordering = request.GET.get("sort", default_ordering)
    if ordering not in allowed:
        ordering = default_ordering
    page = max(1, min(ascii_int(request.GET.get("page", "1")) or 1, 10**6))
    per_page = ascii_int(request.GET.get("per_page", "25"), max_digits=3) or 25
    if per_page not in PER_PAGE_CHOICES:
        per_page = 25
    return ListParams(search=search, ordering=ordering, page=page, per_page=per_page)


def wants_csv(request: HttpRequest) -> bool:
    """Whether a list page is asked for its CSV export (`?format=csv`): every row its search,
    sort and filters select, not a page of them."""
    return request.GET.get("format") == "csv"


@dataclass(frozen=True)
class ListFilter:
    """A list's filter select: its query parameter, label, choices and the value asked for."""

    name: str
    label: str
    choices: Sequence[tuple[str, str]]
    value: str
    any_label: str = "Any"
    text: bool = False  # a free-text box (a prefix, say) rather than a select


def list_filter(
    request: HttpRequest, name: str, label: str, choices: Sequence[tuple[str, str]], *, any_label: str = "Any"
) -> ListFilter:
    """A filter from the query string; a value that is not one of the choices is ignored."""
    value = request.GET.get(name, "")
    return ListFilter(name, label, choices, value if value in dict(choices) else "", any_label)


def text_filter(request: HttpRequest, name: str, label: str, *, max_length: int = MAX_SEARCH) -> ListFilter:
    """A free-text filter from the query string, trimmed and cut to `max_length`."""
    return ListFilter(name, label, (), request.GET.get(name, "")[:max_length].strip(), text=True)


def is_filtered(params: ListParams, filters: Sequence[ListFilter]) -> bool:
    """Whether a list was narrowed by its search or a filter (its empty state then says so)."""
    return bool(params.search or any(f.value for f in filters))


def paginate(qs: QuerySet[Any], params: ListParams) -> Page[Any]:
    paginator = TwoEndedPaginator(qs, params.per_page)
    return paginator.get_page(params.page)


def list_context(
    request: HttpRequest,
    *,
    params: ListParams,
    qs: QuerySet[Any],
    target: str,
    label: str,
    filters: Sequence[ListFilter] = (),
    section: str = "administration",
) -> dict[str, Any]:
    """What a list page's template and its toolbar need: the page of `qs`, the list's URL, the
    htmx target, the search box's label, the filters and whether any narrows the list."""
    return {
        "section": section,
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "page": paginate(qs, params),
        "list_url": request.path,
        "target": target,
        "label": label,
        "list_filters": filters,
        "active_filters": [f for f in filters if f.value],
        "filtered": is_filtered(params, filters),
    }


def render_htmx(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
    trigger: dict[str, Any] | None = None,
) -> HttpResponse:
    """The full page, or for htmx requests only `template#partial`."""
    name = f"{template}#{partial}" if partial and getattr(request, "htmx", False) else template
    response = TemplateResponse(request, name, context, status=status)
    if trigger:
        response["HX-Trigger"] = json.dumps(trigger)
    return response


def apply_errors(form: forms.BaseForm, exc: ValidationError | ApplicationError) -> None:
    """Put a service's errors next to the fields they concern (or on top of the form)."""
    if isinstance(exc, ApplicationError):
        form.add_error(None, exc.message)
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            if field == NON_FIELD_ERRORS:
                target = None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def safe_next(request: HttpRequest, url: object) -> str:
    """`url` if it is safe to send the visitor to after an action ("" if not): on this host, with
    no control character or whitespace anywhere. Django's check strips the URL before judging it,
    so "/x\r\nSet-Cookie: a=1" passes it, and would then break the redirect's header."""
    if not isinstance(url, str) or not url or not url.isprintable() or any(c.isspace() for c in url):
        return ""
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return ""
    return url


def htmx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful POST: htmx follows HX-Location, browsers follow a 303."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    response = HttpResponse(status=303)
    response["Location"] = url
    return response
