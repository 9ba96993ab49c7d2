"""Structured JSON logs with request ids (cloudmsp/core/logs.py)."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from cloudmsp.core.logs import PlainFormatter, RequestContextFilter, scrub
from cloudmsp.users.authentication import token_issue
from tests.core.support import captured_logs

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    _, secret = token_issue(user=user, name="logs")
    return Client(headers={"Authorization": f"Token {secret}"}, raise_request_exception=False)


def test_a_requests_log_lines_are_json_with_the_request_id_of_the_response(admin):
    client = _api(admin)
    with captured_logs() as logs:
        response = client.get("/api/v1/customers/999999/", {"search": "query-text"})
        other = client.get("/api/v1/customers/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert other["X-Request-ID"] != request_id

    records = logs.records()  # every line is a JSON object
    mine = [r for r in records if r.get("request_id") == request_id]
    loggers = [r["logger"] for r in mine]
    assert "django.request" in loggers  # the 404 warning
    assert "cloudmsp.access" in loggers
    for record in mine:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert (record["user_id"], record["tenant_id"]) == (admin.pk, admin.tenant_id)
    access = next(r for r in mine if r["logger"] == "cloudmsp.access")
    assert access["method"] == "GET"
    assert access["path"] == "/api/v1/customers/999999/"  # without the query string
    assert access["status"] == 404
    assert isinstance(access["duration_ms"], int | float)
    assert "query-text" not in logs.text
    assert "request" not in access  # Django's request object stays out


def test_one_access_line_per_request_for_pages_too(admin_client):
    with captured_logs() as logs:
        response = admin_client.get("/customers/")
    assert response.status_code == 200
    access = [r for r in logs.records() if r["logger"] == "cloudmsp.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == response["X-Request-ID"]
    assert access[0]["path"] == "/customers/"
    assert access[0]["status"] == 200


def test_anonymous_requests_have_no_user(db):
    with captured_logs() as logs:
        response = Client().get("/login/")
    access = next(r for r in logs.records() if r["logger"] == "cloudmsp.access")
    assert access["request_id"] == response["X-Request-ID"]
    assert (access["user_id"], access["tenant_id"]) == (None, None)


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("3f2b8c1e-7a4d-4e2a-9b1c-0d5e6f7a8b9c", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("req_01HZY.abc:42", True),
        ("", False),
        ("x" * 129, False),
        ("has space", False),
        ("<script>alert(1)</script>", False),
        ("line\nbreak", False),
        ("ünïcode", False),
        ("-starts-with-dash", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_sane(db, incoming, kept):
    response = Client().get("/login/", headers={"X-Request-ID": incoming} if incoming else {})
    if kept:
        assert response["X-Request-ID"] == incoming
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_the_api_echoes_the_request_id_too(admin):
    response = _api(admin).get("/api/v1/customers/", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "trace-123"


def test_plain_format_carries_the_request_context():
    formatter = PlainFormatter("%(levelname)s [%(request_id)s] %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    RequestContextFilter().filter(record)
    assert formatter.format(record) == "INFO [None] hello there"  # outside any request
    bare = logging.LogRecord("x", logging.INFO, __file__, 1, "no filter", (), None)
    assert formatter.format(bare) == "INFO [-] no filter"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /activate/MTI/cz9k2a-4f1e2d3c4b5a69788796a5b4c3d2e1f0/ 200", "cz9k2a-4f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        (
            "Authorization: Token AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd",
            "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd",
        ),
        ("<SecretAccessKey>wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY</SecretAccessKey>", "wJalrXUtnFEMI"),
        ("<SessionToken>FwoGZXIvYXdzEJr//////////wEaDOnLongToken==</SessionToken>", "FwoGZXIvYXdzEJr"),
        ('{"SecretAccessKey": "wJalrXUtnFEMIK7MDENG", "Other": 1}', "wJalrXUtnFEMIK7MDENG"),
        ('{\\"SessionToken\\": \\"FwoGZXIvYXdzEJrTOKEN\\"}', "FwoGZXIvYXdzEJrTOKEN"),
        ("x-amz-security-token:FwoGZXIvYXdzEJr/TOKEN+x==\nx-amz-date", "FwoGZXIvYXdzEJr"),
        ("'X-Amz-Security-Token': b'FwoGZXIvYXdzEJr/TOKEN+x=='", "FwoGZXIvYXdzEJr"),
        ("Cookie: sessionid=k3j4h5g6f7d8s9a0; csrftoken=abcdef123456", "k3j4h5g6f7d8s9a0"),
    ],
)
def test_credentials_are_scrubbed_from_whatever_is_logged(text, secret):
    assert secret not in scrub(text)
    assert "[redacted]" in scrub(text)


def test_scrubbing_leaves_ordinary_text_alone():
    for text in (
        "Invalid Token: Resource not found!",
        "Token authentication failed",
        "GET /api/v1/customers/ 200 3.1ms",
        "The role's trust policy does not require this external id",
    ):
        assert scrub(text) == text
