"""Rate limits: DRF's throttles, used by the API views and, through `cloudmsp.web.ratelimit`, by
the pages, so that both faces of an action draw on one budget.

The actions that reach AWS or change many rows (sync, onboarding, bulk association, Remove Role
ARN, role validation) are counted per tenant: every administrator of an MSP shares its budget,
and one MSP's traffic never slows another's. Signing in is counted per email and per client
address; that is a plain request rate, independent of the lockout after failed passwords (which
counts failures, not requests). The rates are `settings.RATE_LIMITS`, read at each request; the
counters live in the default cache (Redis when REDIS_URL is set).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterable
from typing import Any, override

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import OpenApiResponse
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from cloudmsp.api.serializers import ErrorSerializer
from cloudmsp.core.text import email_key

logger = logging.getLogger(__name__)

#: What each scope limits, for the message of a refused request.
WHAT = {
    "sync": "organization syncs",
    "onboard": "onboarding requests",
    "bulk": "bulk changes of accounts",
    "remove_role": "Remove Role ARN requests",
    "validate": "role validations",
    "login_email": "sign-in attempts for this email",
    "login_ip": "sign-in attempts from your address",
    "reset_email": "password reset requests for this email",
    "reset_ip": "password reset requests from your address",
}

THROTTLED = {
    429: OpenApiResponse(
        ErrorSerializer,
        description="Too many requests of this kind (per tenant; signing in: per email and per "
        "address). The `Retry-After` header says how many seconds to wait.",
    )
}


class ScopedRate(SimpleRateThrottle):
    """DRF's sliding-window throttle, with its rate taken from `settings.RATE_LIMITS[scope]` when
    it is created (so each request sees the current settings). If the cache cannot be reached
    the request is let through and a warning logged: a cache outage must not take the portal
    down, and sign-in stays protected by the lockout."""

    def __init__(self, scope: str | None = None) -> None:
        if scope is not None:
            self.scope = scope
        super().__init__()

    def get_rate(self) -> str | None:
        try:
            return settings.RATE_LIMITS[self.scope or ""]
        except KeyError:
            raise ImproperlyConfigured(f"settings.RATE_LIMITS has no rate for {self.scope!r}") from None

    def cache_key_for(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("rate limit %s not applied: the cache is unreachable", self.scope, exc_info=True)
            return True

    @property
    def message(self) -> str:
        return f"Too many {WHAT.get(self.scope or '', 'requests')}"


class TenantRateThrottle(ScopedRate):
    """Counts a tenant administrator's requests against the tenant. Anyone else (a customer
    user or a system administrator, whom the action refuses anyway) is counted on their own,
    so they cannot use up an MSP's budget."""

    @override
    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = request.user
        if not (user and user.is_authenticated):
            return self.cache_key_for(f"ip-{self.get_ident(request)}")
        if getattr(user, "is_tenant_admin", False) and user.tenant_id:
            return self.cache_key_for(f"tenant-{user.tenant_id}")
        return self.cache_key_for(f"user-{user.pk}")

    @property
    def message(self) -> str:
        return f"{super().message} for your organization right now"


class LoginIPThrottle(ScopedRate):
    scope = "login_ip"

    @override
    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_key_for(self.get_ident(request))


class LoginEmailThrottle(ScopedRate):
    """Per submitted email (whether or not such a user exists), read from the form field
    `field`; requests without an email are not counted here."""

    scope = "login_email"
    field = "username"

    @override
    def get_cache_key(self, request: Any, view: Any) -> str | None:
        data = request.data if isinstance(request, Request) else request.POST
        email = email_key(data.get(self.field) if hasattr(data, "get") else None)
        if not email:
            return None
        # Hashed: any text fits a cache key that way, and the cache holds no addresses.
        return self.cache_key_for(hashlib.sha256(email.encode("utf-8", "replace")).hexdigest())


class TokenLoginEmailThrottle(LoginEmailThrottle):
    """The same budget as the sign-in page, for `POST /api/v1/auth/token/` (field `email`)."""

    field = "email"


class ResetIPThrottle(LoginIPThrottle):
    """Forgot-password requests per client address."""

    scope = "reset_ip"


class ResetEmailThrottle(LoginEmailThrottle):
    """Forgot-password requests per submitted email (field `email`), whether or not it exists."""

    scope = "reset_email"
    field = "email"


def refusal(blocked: list[BaseThrottle]) -> tuple[str, int]:
    """The message and Retry-After (whole seconds, at least 1) for refused throttles."""
    waits = [w for w in (t.wait() for t in blocked) if w is not None]
    seconds = max(1, math.ceil(max(waits, default=1)))
    what = getattr(blocked[0], "message", "Too many requests")
    return f"{what}. Try again in {seconds} second{'s' if seconds != 1 else ''}.", seconds


def check(throttles: Iterable[BaseThrottle], request: Any, view: Any) -> tuple[str, int] | None:
    """Count the request against every throttle (as DRF does: all of them, even after one has
    refused); None if all allow it, else the refusal."""
    blocked = [t for t in list(throttles) if not t.allow_request(request, view)]
    return refusal(blocked) if blocked else None


class RateLimited(exceptions.Throttled):
    """429 with `Retry-After: seconds` (set by DRF's handler) and our message as it is."""

    def __init__(self, message: str, seconds: int) -> None:
        exceptions.APIException.__init__(self, message)
        self.wait = seconds


class RateLimitMixin:
    """For API views: a refused request is a 429 with Retry-After and a message saying which
    limit was reached, in the API's error format."""

    def check_throttles(self, request: Request) -> None:
        refused = check(self.get_throttles(), request, self)  # type: ignore[attr-defined]
        if refused is not None:
            raise RateLimited(*refused)
