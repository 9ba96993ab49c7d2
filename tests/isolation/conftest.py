from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import ApiToken
from tests.isolation.support import World, build_world

#: Requests made by the isolation suite, by kind; printed at the end of the run.
TRIED: Counter[str] = Counter()


class Actor:
    """A signed-in (or anonymous) caller: a session for pages, a token for the API, and
    `raise_request_exception=False` so that a 500 is observed as a status."""

    def __init__(self, user: Any = None) -> None:
        self.user = user
        self.client = Client(raise_request_exception=False)
        self.token = ""
        if user is not None:
            self.client.force_login(user)
            token, self.token = token_issue(user=user, name="isolation")
            # Token use stamps `last_used_at` at most once a minute: stamp it now, so that
            # requests made after a snapshot do not.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())

    def page(self, method: str, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            return self.client.get(url, data, headers=headers)
        body = urlencode(data or {}, doseq=True)
        return self.client.generic(method, url, body, content_type="application/x-www-form-urlencoded", headers=headers)

    def api(self, method: str, url: str, data: Any = None, *, raw: str | bytes | None = None) -> Any:
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        if method == "GET":
            return self.client.get(url, data, headers=headers)
        body = raw if raw is not None else ("" if data is None else json.dumps(data))
        return self.client.generic(method, url, body, content_type="application/json", headers=headers)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """The suite sends many requests per test to probe isolation and input handling; a 429 would
    hide what it looks for. The limits have tests of their own (tests/api/test_throttling.py,
    tests/web/test_ratelimit.py)."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS)


@pytest.fixture(autouse=True)
def _aws_offline(settings, monkeypatch):
    """No test here needs AWS: any call fails at once (connection refused on the discard port)
    instead of reaching for real credentials or the network."""
    from cloudmsp.cloud.providers.aws import client as aws_client

    for key, value in {
        "AWS_ACCESS_KEY_ID": "isolation",
        "AWS_SECRET_ACCESS_KEY": "isolation",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.PORTAL_AWS_ACCOUNT_ID = "123456789012"
    settings.AWS_MAX_ATTEMPTS = 1
    monkeypatch.setattr(aws_client, "sleep", lambda _seconds: None)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def actor_for():
    return Actor


@pytest.fixture
def alpha(world) -> Actor:
    """The tenant administrator of tenant alpha, who tries to reach bravo's and charlie's rows."""
    return Actor(world.a.admin)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TRIED:
        terminalreporter.section("isolation suite")
        for key, n in sorted(TRIED.items()):
            terminalreporter.write_line(f"{key}: {n}")
