"""Content Security Policy and the other secure headers, on pages, on the API and on the API
docs; with the production settings also HSTS, HTTPS redirects and secure cookies."""

from __future__ import annotations

import importlib
import re
import sys
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings

from cloudmsp.users.authentication import token_issue
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def assert_secure_headers(response) -> None:
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert all(re.fullmatch(r"'nonce-[A-Za-z0-9+/=_-]+'", s) for s in csp["script-src"][1:])
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_have_the_secure_headers(admin_client):
    for url in ("/customers/", "/administration/accounts/"):
        response = admin_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert_secure_headers(response)
    assert_secure_headers(Client().get("/login/"))


def test_api_answers_have_the_secure_headers(admin):
    _, secret = token_issue(user=admin, name="headers")
    api = Client(headers={"Authorization": f"Token {secret}"})
    ok = api.get("/api/v1/customers/")
    assert ok.status_code == 200
    assert_secure_headers(ok)
    error = api.get("/api/v1/customers/999999/")
    assert error.status_code == 404
    assert_secure_headers(error)
    assert_secure_headers(Client().get("/api/v1/customers/"))  # 401/403


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_styles = 0
        self.inline_scripts = 0
        self.style_attributes = 0
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.style_attributes += 1
        if tag == "style":
            self.inline_styles += 1
        elif tag == "script":
            if a.get("src"):
                self.urls.append(a["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and a.get("href"):
            self.urls.append(a["href"])


def test_the_api_docs_page_needs_nothing_the_policy_blocks(db):
    client = Client()
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert_secure_headers(response)
    assets = _Assets()
    assets.feed(response.content.decode())
    assert (assets.inline_styles, assets.inline_scripts, assets.style_attributes) == (0, 0, 0)
    assert "/static/api/swagger_ui.css" in assets.urls
    for url in assets.urls:
        assert url.startswith("/"), url  # same origin: allowed by 'self'
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.getvalue(), url
        asset.close()
    css = client.get("/static/api/swagger_ui.css")
    assert b"box-sizing" in css.getvalue()
    css.close()


@pytest.fixture
def production(monkeypatch):
    """The security settings of config/settings/production.py, as that module sets them."""
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://testserver")
    monkeypatch.delenv("SECURE_SSL_REDIRECT", raising=False)
    monkeypatch.delenv("SECURE_HSTS_SECONDS", raising=False)
    sys.modules.pop("config.settings.production", None)
    prod = importlib.import_module("config.settings.production")
    names = [
        "DEBUG",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_CSP",
    ]
    with override_settings(**{name: getattr(prod, name) for name in names}):
        yield prod
    sys.modules.pop("config.settings.production", None)


def test_production_redirects_to_https_and_sends_hsts(production, db):
    plain = Client().get("/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
    secure = Client().get("/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert_secure_headers(secure)
    # Behind the TLS-terminating proxy:
    proxied = Client().get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert "Strict-Transport-Security" in proxied


def test_production_cookies_are_secure(production, admin):
    client = Client()
    form = client.get("/login/", secure=True)
    assert form.cookies["csrftoken"]["secure"]
    response = client.post("/login/", {"username": admin.email, "password": PASSWORD}, secure=True)
    assert response.status_code == 302, response.content[:500]
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
