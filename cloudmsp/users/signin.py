"""Signing in, for the sign-in page and `POST /api/v1/auth/token/` alike: the password step, the
two-factor step, the lockout after failed attempts, and their audit events.

Attempts on one email are checked one after the other (see `_serialize`), so each sees the
failures recorded before it: however many arrive at once, no more than LOGIN_FAILURE_LIMIT
passwords (or codes) are tried before the email is locked. A refused attempt is audited in the
tenant of the user the email belongs to, or in none; the caller is told the same either way.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.http import HttpRequest

from cloudmsp.audit.models import Outcome
from cloudmsp.audit.services import audit_record
from cloudmsp.core.text import email_key
from cloudmsp.users import lockout, two_factor
from cloudmsp.users.auth import EmailBackend
from cloudmsp.users.models import User

if TYPE_CHECKING:
    from django_otp.plugins.otp_totp.models import TOTPDevice

FAILED = "The email or password is not correct, or the account is not active."
WRONG_CODE = "This code is not correct. Enter the code your authenticator app shows now."

# The namespace of the PostgreSQL advisory locks taken here ("CMSP"), apart from any other's.
_LOCK_CLASS = 0x434D5350
# The two-factor step must follow the password step within this many seconds.
PENDING_TIMEOUT = 300
_PENDING = "cloudmsp.signin_pending"


@dataclass(frozen=True)
class SignIn:
    """The outcome of an attempt: the user (if it succeeded), or whether the email or address is
    locked and for how many more seconds, and the message to show."""

    user: User | None = None
    locked: bool = False
    retry_after: int = 0
    message: str = ""


def _serialize(email: str) -> None:
    """Hold a lock on `email` until the transaction ends. On PostgreSQL a transaction-level
    advisory lock; SQLite's IMMEDIATE transactions already hold the database's write lock."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(email_key(email).encode()).digest()[:4], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, key])


def _account(email: str) -> User | None:
    return User.unscoped.filter(email__iexact=email).only("id", "email", "tenant_id").first() if email else None


def _audit(request: HttpRequest, email: str, account: User | None, *, locked: bool, what: str) -> None:
    ip = getattr(request, "axes_ip_address", None) or "an unknown address"
    audit_record(
        actor=None,
        action="auth.login_locked" if locked else "auth.login_failed",
        obj=account,
        object_type="user",
        object_repr=email[:300],
        tenant_id=account.tenant_id if account is not None else None,
        outcome=Outcome.DENIED if locked else Outcome.FAILED,
        message=f"{what} (from {ip}).",
    )


def _refused(request: HttpRequest, email: str, locked: bool, message: str) -> SignIn:
    if not locked:
        return SignIn(message=message)
    seconds = lockout.retry_after(request, email)
    return SignIn(locked=True, retry_after=seconds, message=lockout.locked_message(seconds))


def signin_password(*, request: HttpRequest, email: str, password: str) -> SignIn:
    """Check an email and password. A wrong password counts towards the lockout; a locked email
    or address is refused without checking the password. The user is returned but not signed
    in: the caller does that (or asks for the second factor first)."""
    email = lockout.normalize_email(email)
    with transaction.atomic():
        _serialize(email)
        account = _account(email)
        if lockout.is_locked(request, email):
            _audit(request, email, account, locked=True, what="Sign-in refused: too many failed attempts")
            locked = True
        else:
            user = authenticate(request, username=email, password=password)
            if user is not None:
                return SignIn(user=user)
            locked = bool(getattr(request, "axes_locked_out", False))
            what = "Wrong email or password, or an inactive account"
            _audit(request, email, account, locked=False, what=what + ("; now locked" if locked else ""))
    return _refused(request, email, locked, FAILED)


def signin_code(*, request: HttpRequest, user: User, code: str) -> SignIn:
    """The second step for a user with a confirmed TOTP device: a wrong code counts towards the
    same lockout as a wrong password. Without a device (removed meanwhile) there is no step."""
    device: TOTPDevice | None = two_factor.device_for(user)
    if device is None:
        return SignIn(user=user)
    wait = two_factor.throttle_wait(device)
    if wait:
        return SignIn(message=two_factor.throttled_message(wait))
    email = lockout.normalize_email(user.email)
    with transaction.atomic():
        _serialize(email)
        if lockout.is_locked(request, email):
            _audit(request, email, user, locked=True, what="Two-factor code refused: too many failed attempts")
            locked = True
        else:
            if device.verify_token(code):
                return SignIn(user=user)
            locked = lockout.record_failure(request, email)
            _audit(
                request, email, user, locked=False, what="Wrong two-factor code" + ("; now locked" if locked else "")
            )
    return _refused(request, email, locked, WRONG_CODE)


# The pending second step, kept in the (not yet signed-in) session -------------------------------


def pending_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    """Remember that `user` passed the password step; the session is not signed in yet."""
    request.session.cycle_key()
    request.session[_PENDING] = {"user": user.pk, "at": time.time(), "next": next_url}


def pending_get(request: HttpRequest) -> tuple[User, str] | None:
    """The user waiting for the second step and where to go next, unless the step has expired
    or the user can no longer sign in."""
    data = request.session.get(_PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    if not isinstance(data.get("at"), (int, float)) or time.time() - data["at"] > PENDING_TIMEOUT:
        return None
    user = User.unscoped.select_related("tenant", "customer").filter(pk=data["user"]).first()
    if user is None or not EmailBackend().user_can_authenticate(user):
        return None
    next_url = data.get("next")
    return user, next_url if isinstance(next_url, str) and next_url else settings.LOGIN_REDIRECT_URL


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(_PENDING, None)
