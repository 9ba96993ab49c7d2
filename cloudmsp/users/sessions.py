"""Which sessions belong to whom, and how long they last.

Every sign-in records its session key in `UserSession` (and every sign-out forgets it), so ending
a user's sessions reads a few keys by an index instead of decoding every session in the store.
The sign-in time and the time of the last request are kept in the session itself; the
middleware (`cloudmsp.users.middleware.SessionTimeoutMiddleware`) ends a session after
SESSION_IDLE_TIMEOUT seconds without a request or SESSION_ABSOLUTE_TIMEOUT after sign-in.
"""

from __future__ import annotations

import time
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from cloudmsp.users.models import ApiToken, User, UserSession

SIGNED_IN_AT = "cloudmsp.signed_in_at"
SEEN_AT = "cloudmsp.seen_at"


def _store(session_key: str) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)  # type: ignore[no-any-return]


def session_register(*, user: User, session_key: str) -> None:
    """Record that `session_key` is signed in as `user`. Rows older than the absolute timeout
    name sessions that have ended anyway, and are dropped."""
    UserSession.objects.update_or_create(session_key=session_key, defaults={"user": user})
    too_old = timezone.now() - timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
    UserSession.objects.filter(user=user, created_at__lt=too_old).delete()


def session_forget(*, session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()


def end_sessions(user: User, *, keep_session_key: str | None = None, tokens: bool = True) -> int:
    """End the user's sessions (but `keep_session_key`) and, unless `tokens` is False, revoke
    every API token. Returns how many sessions ended."""
    return _end(
        UserSession.objects.filter(user=user),
        ApiToken.objects.filter(user=user) if tokens else None,
        keep_session_key=keep_session_key,
    )


def end_tenant_sessions(tenant_id: int) -> int:
    """End every session and revoke every API token of a tenant's users (it is being disabled:
    enabling it again must not bring them back). Returns how many sessions ended."""
    return _end(
        UserSession.objects.filter(user__tenant_id=tenant_id), ApiToken.objects.filter(user__tenant_id=tenant_id)
    )


def _end(rows: QuerySet[UserSession], tokens: QuerySet[ApiToken] | None, *, keep_session_key: str | None = None) -> int:
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        _store(key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    if tokens is not None:
        tokens.delete()
    return len(keys)


def keep_signed_in(request: HttpRequest, user: User) -> None:
    """After the user changed their own password: the current session stays signed in under a
    new key (Django's `update_session_auth_hash`), and is still known as the user's."""
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def expired(session: SessionBase, now: float) -> str:
    """Why a signed-in session has ended ("" while it has not)."""
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return ""
    if now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT:
        hours = settings.SESSION_ABSOLUTE_TIMEOUT / 3600
        return f"You were signed out {hours:g} hours after signing in. Please sign in again."
    if now - seen_at > settings.SESSION_IDLE_TIMEOUT:
        minutes = settings.SESSION_IDLE_TIMEOUT / 60
        return f"You were signed out after {minutes:g} minutes without activity. Please sign in again."
    return ""


def touch(session: SessionBase, now: float) -> bool:
    """Note a request. Written at most once a minute (or a thirtieth of the idle timeout), so a
    busy session is not saved on every request; the idle timeout is that much less exact.
    Returns True for a session signed in before these timestamps (and the index) existed: its
    clocks start now, and the caller indexes it."""
    seen_at = session.get(SEEN_AT)
    resolution = min(60, max(1, settings.SESSION_IDLE_TIMEOUT // 30))
    if not isinstance(seen_at, (int, float)):
        session.setdefault(SIGNED_IN_AT, now)
        session[SEEN_AT] = now
        return True
    if now - seen_at >= resolution:
        session[SEEN_AT] = now
    return False


@receiver(user_logged_in, dispatch_uid="cloudmsp.users.sessions.signed_in")
def _signed_in(*, request: HttpRequest, user: User, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now
    if session.session_key is None:
        session.save()
    session_register(user=user, session_key=session.session_key)


@receiver(user_logged_out, dispatch_uid="cloudmsp.users.sessions.signed_out")
def _signed_out(*, request: HttpRequest, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        session_forget(session_key=session.session_key)
