"""The sign-in lockout, on django-axes: how an attempt is named (email, client address), how long
a lock still holds, and what a locked caller is told.

django-axes counts failures per email and, on its own, per client address
(`AXES_LOCKOUT_PARAMETERS`); `AxesStandaloneBackend`, first in `AUTHENTICATION_BACKENDS`, refuses a
locked email or address before any password is checked. `cloudmsp.users.signin` runs every
attempt through here.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from cloudmsp.core.text import email_key, normalize


def normalize_email(value: object) -> str:
    """The form of an email that accounts are looked up by: `Admin@X.test ` is `admin@x.test`."""
    return normalize(value).lower() if isinstance(value, str) else ""


def username_from(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the submitted email from `authenticate()`'s credentials (the page
    and the API both pass `username=`) or, failing that, the form, in the form failures are
    counted under (`email_key`: every spelling the database takes for one address counts as it)."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        value = request.POST.get("username")
    return email_key(value) or None


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the peer address, or behind `TRUSTED_PROXY_COUNT` proxies the
    address the outermost of them saw (the entries before it are whatever the client sent)."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return str(hops[-proxies])
    return str(request.META.get("REMOTE_ADDR") or "") or None


def cooloff() -> timedelta:
    return timedelta(seconds=settings.LOGIN_COOLOFF_TIME)


def is_locked(request: HttpRequest, email: str) -> bool:
    """Whether attempts for this email, or from this request's address, are refused now."""
    return not AxesProxyHandler.is_allowed(request, {"username": email})


def record_failure(request: HttpRequest, email: str) -> bool:
    """Count a failed attempt that did not go through `authenticate()` (a wrong two-factor code).
    Returns whether the email or address is now locked."""
    user_login_failed.send(sender=__name__, credentials={"username": email}, request=request)
    return bool(getattr(request, "axes_locked_out", False))


def reset(request: HttpRequest, email: str) -> None:
    """After a successful sign-in that does not go through `login()` (the token endpoint): clear
    the failures of this email and address, as `AXES_RESET_ON_SUCCESS` does for the pages."""
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": email})


def retry_after(request: HttpRequest, email: str) -> int:
    """Whole seconds until neither the email nor the request's address is locked (at least 1)."""
    AxesProxyHandler.update_request(request)
    limit = settings.AXES_FAILURE_LIMIT
    now = timezone.now()
    window = AccessAttempt.objects.filter(attempt_time__gte=now - cooloff())
    until = now
    for rows in (window.filter(username=email_key(email)), window.filter(ip_address=request.axes_ip_address)):  # type: ignore[attr-defined]
        # Each row holds its failures until `cooloff` after its last one; the lock lifts once
        # enough of the oldest rows have dropped out that fewer than `limit` remain.
        attempts = sorted(rows.values_list("attempt_time", "failures_since_start"))
        remaining = sum(n for _, n in attempts)
        for attempt_time, failures in attempts:
            if remaining < limit:
                break
            until = max(until, attempt_time + cooloff())
            remaining -= failures
    return max(1, math.ceil((until - now).total_seconds()))


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        "Too many failed sign-in attempts. Signing in with this email, or from your network, is "
        f"paused for {minutes} minute{'s' if minutes != 1 else ''}. Try again later, or use "
        "“Forgot password?” to set a new password."
    )


def locked_api_response(seconds: int) -> JsonResponse:
    response = JsonResponse({"detail": locked_message(seconds), "errors": {}}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, called by AxesMiddleware for a request axes flagged as locked out.
    The sign-in page and the token endpoint answer a lockout themselves (429 with Retry-After);
    anything else that authenticated through Django gets the same answer here."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    seconds = retry_after(request, username_from(request, credentials) or "")
    if request.path.startswith("/api/"):
        return locked_api_response(seconds)
    response = TemplateResponse(
        request, "web/error.html", {"status": 429, "message": locked_message(seconds)}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response
