"""Rate limits for the pages: the API's throttles (cloudmsp/api/throttling.py), so a page and its
API endpoint draw on one budget. A refused request is a 429 with Retry-After and a message where
the user is looking: in the dialog the action came from, in the flash area, or as a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from rest_framework.throttling import BaseThrottle

from cloudmsp.api import throttling

Throttles = tuple[str | type[BaseThrottle], ...]


def _throttles(spec: Throttles) -> list[BaseThrottle]:
    # A name is a per-tenant scope; a class is a throttle of its own (sign-in).
    return [throttling.TenantRateThrottle(s) if isinstance(s, str) else s() for s in spec]


def too_many_requests(request: HttpRequest, message: str, seconds: int) -> HttpResponse:
    context = {"status": 429, "message": message}
    name = "web/rate_limited.html"
    htmx = getattr(request, "htmx", None)
    if htmx:
        name += "#dialog" if htmx.target == "modal-content" else "#message"
    response = TemplateResponse(request, name, context, status=429)
    if htmx and htmx.target != "modal-content":
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
    response["Retry-After"] = str(seconds)
    return response


def rate_limit(*spec: str | type[BaseThrottle], methods: tuple[str, ...] = ("POST",)) -> Callable[..., Any]:
    """Count the view's `methods` requests against the limits in `spec` (scopes of
    settings.RATE_LIMITS, counted per tenant, or throttle classes) and answer 429 once one is
    reached. Opening a dialog (GET) is not counted; the action is."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                refused = throttling.check(_throttles(spec), request, None)
                if refused is not None:
                    return too_many_requests(request, *refused)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
