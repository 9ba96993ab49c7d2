"""Structured logs. Every request gets an id (a sane incoming X-Request-ID, or a new one), echoed
in the response; every log record written during the request carries that id and the signed-in
user and tenant; one access line is written per request. Formatters scrub credentials (API
tokens, activation links, AWS temporary credentials, session cookies) from whatever reaches
them, so that a library logging too much cannot leak one.

Imported by the settings modules: nothing here may import models.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept when it looks like an id: letters, digits and a few separators, at most
# 128 characters. Anything else (spaces, markup, control characters) gets a fresh id instead.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+-]{0,127}", re.ASCII)
CONTEXT_FIELDS = ("request_id", "tenant_id", "user_id")

_request: ContextVar[HttpRequest | None] = ContextVar("cloudmsp_request", default=None)

access_logger = logging.getLogger("cloudmsp.access")

REDACTED = "[redacted]"
# (pattern, replacement): credentials as they appear in messages, reprs and JSON (where quotes
# are escaped, hence the optional backslashes).
_SECRETS = [
    # Activation and password-reset links: /activate/<uid>/<token>/
    (re.compile(r"(/activate/[^/\s\"'\\]+/)[^/\s\"'\\]+"), rf"\g<1>{REDACTED}"),
    # Authorization: Token <secret>
    (re.compile(r"(\bToken\s+)[A-Za-z0-9_\-]{20,}"), rf"\g<1>{REDACTED}"),
    # AWS temporary credentials in STS answers (XML) and in JSON
    (re.compile(r"(<(?:SecretAccessKey|SessionToken)>)[^<]*"), rf"\g<1>{REDACTED}"),
    (
        re.compile(
            r"((?:SecretAccessKey|SessionToken|secret_access_key|session_token)\\?[\"']?\s*[:=]\s*\\?[\"']?)[^\"'\\\s,}]+"
        ),
        rf"\g<1>{REDACTED}",
    ),
    # The session token as a signed request header (botocore's request and canonical request)
    (re.compile(r"((?i:x-amz-security-token)\\?[\"']?\s*:\s*b?\\?[\"']?)[^\"'\\\s,}]+"), rf"\g<1>{REDACTED}"),
    # Session and CSRF cookies
    (re.compile(r"((?:sessionid|csrftoken)=)[^;\s\"'\\]+"), rf"\g<1>{REDACTED}"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _user(request: HttpRequest | None) -> Any:
    """The signed-in user of the request, if authentication has already happened. A user not
    yet loaded stays unloaded: loading it here would query the database from inside logging."""
    if request is None:
        return None
    user = request.__dict__.get("user")  # set by AuthenticationMiddleware (lazily) or by DRF
    if isinstance(user, SimpleLazyObject):
        wrapped = user._wrapped
        user = None if wrapped is empty else wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


class RequestContextFilter(logging.Filter):
    """Adds request_id, tenant_id and user_id to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs 4xx and 5xx answers after the middleware is done, with the request in
        # the record.
        request = _request.get() or getattr(record, "request", None)
        user = _user(request)
        values = {
            "request_id": getattr(request, "request_id", None),
            "tenant_id": getattr(user, "tenant_id", None),
            "user_id": getattr(user, "pk", None),
        }
        for key, value in values.items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


class PlainFormatter(logging.Formatter):
    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("defaults", dict.fromkeys(CONTEXT_FIELDS, "-"))
        super().__init__(fmt, datefmt, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, the request context and any
    `extra` fields. Django's `request` extra (an object whose repr carries the path) is left
    out; the access line has what matters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message", *CONTEXT_FIELDS])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(**kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def logging_config(*, json: bool, level: str = "INFO") -> dict[str, Any]:
    """The LOGGING setting: everything to stderr, one line per record, JSON when `json`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "cloudmsp.core.logs.RequestContextFilter"}},
        "formatters": {
            "plain": {
                "()": "cloudmsp.core.logs.PlainFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
            "json": {"()": "cloudmsp.core.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json else "plain",
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # At DEBUG these write whole requests and answers: signed headers with the session
            # token, and AssumeRole's temporary credentials.
            "botocore": {"level": "WARNING"},
            "boto3": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
        },
    }


def _request_id(request: HttpRequest) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain: names the request, makes it the logging context, echoes the id in
    the response and writes the access line (method, path without query string, status,
    duration)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = _request_id(request)  # type: ignore[attr-defined]
        token = _request.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            path = scrub(request.path)
            access_logger.info(
                "%s %s %s %sms",
                request.method,
                path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            _request.reset(token)
