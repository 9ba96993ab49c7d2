"""Session timeouts, and the two-factor set-up a tenant can require of its administrators."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse

from cloudmsp.users import sessions, two_factor
from cloudmsp.users.models import User


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect htmx follows with a full page load (not swapped into a fragment)."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SessionTimeoutMiddleware:
    """Sign a session out after SESSION_IDLE_TIMEOUT seconds without a request, or
    SESSION_ABSOLUTE_TIMEOUT seconds after its sign-in, and say why on the sign-in page. Pages
    then send the visitor to sign in; the API answers 401 as to anyone without credentials."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if SESSION_KEY in session:
            now = time.time()
            reason = sessions.expired(session, now)
            if reason:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, reason)
                    if _is_htmx(request):
                        return _redirect(request, reverse("users:login"))
            elif sessions.touch(session, now) and isinstance(request.user, User) and session.session_key:
                sessions.session_register(user=request.user, session_key=session.session_key)
        return self.get_response(request)


class TwoFactorEnrolmentMiddleware:
    """An administrator of a tenant that requires two-factor authentication, signed in without a
    device, is sent to set one up before anything else (the API, used with the session, answers
    403). What is checked is the session's user (`request.user` here is the session's, never an
    API token's), whatever headers come with it: an `Authorization` header that authenticates
    nothing would otherwise let DRF fall back to the session. Requests with an API token and no
    signed-in session are not affected; a token is never issued before the set-up
    (`services.api_token_create`)."""

    ALLOWED = frozenset({"users:two_factor", "users:two_factor_confirm", "users:logout", "web:healthz"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and two_factor.must_enrol(user) and not self._allowed(request):
            message = "Your organization requires two-factor authentication: set it up to continue."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "errors": {}}, status=403)
            return _redirect(request, reverse("users:two_factor"))
        return self.get_response(request)

    def _allowed(self, request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in self.ALLOWED
