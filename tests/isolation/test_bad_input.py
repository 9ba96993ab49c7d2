"""Bad input everywhere: every form and endpoint gets huge text, odd Unicode, markup, SQL
fragments, malformed and huge ids and wrong JSON types.

The answer is always a clear 4xx with a message — the form again with the error next to the
field for pages, `{"detail", "errors"}` for the API — never a 500, and nothing stored changes.
Input that is merely unusual but legitimate (emoji, zero-width joiners inside emoji, combining
marks, markup and SQL-looking text in a free-text field) is stored as typed (NFC-normalised) and
comes back escaped in HTML.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.users.models import User
from cloudmsp.users.tokens import activation_token
from tests.factories import PASSWORD
from tests.isolation.conftest import TRIED, Actor
from tests.isolation.support import World, all_routes, assert_unchanged, snapshot

pytestmark = pytest.mark.django_db

MARKUP = "<script>alert(1)</script>"
ESCAPED_MARKUP = "&lt;script&gt;alert(1)&lt;/script&gt;"
SQL = "'; DROP TABLE customers_customer; --"


@dataclass(frozen=True)
class Payload:
    name: str
    value: Any
    refused: bool  # refused wherever it goes (else: accepted where it fits the field)
    raw_json: str | None = None  # for values JSON can carry but Python cannot encode as UTF-8


TEXT_PAYLOADS = [
    Payload("huge", "x" * 100_000, refused=True),
    Payload("rtl-override", "invoice\u202egpj.exe", refused=True),
    Payload("nul-byte", "nul\x00byte", refused=True),
    Payload("zero-width-joiner", "\U0001f469\u200d\U0001f4bb Dev\u200dOps", refused=False),
    Payload("emoji", "Café \u2615 \U0001f680", refused=False),
    Payload("combining-marks", "E\u0301cole Ame\u0301lie", refused=False),
    Payload("markup", MARKUP, refused=False),
    Payload("sql", SQL, refused=False),
]
JSON_ONLY_PAYLOADS = [
    Payload("lone-surrogate", None, refused=True, raw_json='"lone \\ud800 surrogate"'),
    Payload("number", 12345, refused=True),
    Payload("float", 1e3, refused=True),
    Payload("list", ["a", "b"], refused=True),
    Payload("object", {"a": 1}, refused=True),
    Payload("bool", True, refused=True),
    Payload("null", None, refused=True),
]
BAD_IDS = ["0", "-1", "99999999999999999999", "abc", "1e3", "1.5", "%00", "\u0661\u0662", "0x10", "+1", " 1"]
BAD_JSON_IDS: list[Any] = [0, -1, 99999999999999999999, "abc", 1e3, "1e3", 1.5, True, [1], {"id": 1}, "", "-0"]


def stored_form(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def accepted(payload: Payload, kind: str, max_length: int) -> bool:
    if payload.refused or kind != "text":
        return False
    return 0 < len(stored_form(payload.value)) <= max_length


def describe(response: Any) -> str:
    exc = getattr(response, "exc_info", None)
    return f"status {response.status_code}{f' ({exc[1]!r})' if exc else ''}: {response.content[:300]!r}"


def assert_html_safe(response: Any, context: str) -> None:
    if "html" in response.get("Content-Type", ""):
        assert MARKUP not in response.content.decode(errors="replace"), f"{context}: unescaped markup"


def assert_api_error(response: Any, status: int | tuple[int, ...], context: str, field: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, f"{context}: {describe(response)}"
    assert response["Content-Type"].startswith("application/json"), f"{context}: {describe(response)}"
    body = response.json()
    assert set(body) >= {"detail", "errors"}, f"{context}: {body}"
    assert isinstance(body["detail"], str), f"{context}: {body}"
    assert body["detail"], f"{context}: {body}"
    if field is not None:
        assert body["errors"].get(field), f"{context}: no error on {field}: {body}"
    return body


_unique = count(1)


def _actor(world: World, role: str) -> Actor:
    return Actor({"sysadmin": world.sysadmin, "tenant_admin": world.a.admin, "customer_user": world.a.cuser1}[role])


# Pages: every form, every field, every payload -------------------------------------------------


@dataclass(frozen=True)
class FormSpec:
    name: str
    role: str
    url: Callable[[World], str]
    base: Callable[[World, int], dict[str, Any]]
    fields: dict[str, tuple[str, int]]  # field -> (kind, max length)
    model: Any
    target: Callable[[World], Any] | None = None  # the edited object; None for a create
    ok: int = 303


CUSTOMER_FIELDS = {
    "company_name": ("text", 200),
    "first_name": ("text", 100),
    "last_name": ("text", 100),
    "email": ("email", 254),
    "phone": ("text", 40),
    "country": ("text", 100),
    "state": ("text", 100),
    "city": ("text", 100),
    "address": ("text", 200),
    "address2": ("text", 200),
    "zip_code": ("text", 20),
    "description": ("text", 2000),
}
USER_FIELDS = {"email": ("email", 254), "first_name": ("text", 100), "last_name": ("text", 100), "phone": ("text", 40)}
PROFILE_FIELDS = {"first_name": ("text", 100), "last_name": ("text", 100), "phone": ("text", 40)}


def _customer_base(w: World, n: int) -> dict[str, Any]:
    return {"company_name": f"Base Co {n}", "first_name": "Ada", "last_name": "Lovelace", "email": f"b{n}@base.test"}


def _customer_of(w: World) -> dict[str, Any]:
    c = w.a.customer1
    return {f: getattr(c, f) for f in CUSTOMER_FIELDS}


def _user_base(w: World, n: int) -> dict[str, Any]:
    return {"email": f"base{n}@alpha.test", "first_name": "New", "last_name": "User", "phone": ""}


def _user_of(user: Any) -> dict[str, Any]:
    return {"email": user.email, "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone}


FORMS = [
    FormSpec(
        "customer create", "tenant_admin", lambda _w: "/customers/new/", _customer_base, CUSTOMER_FIELDS, Customer
    ),
    FormSpec(
        "customer edit",
        "tenant_admin",
        lambda w: f"/customers/{w.a.customer1.pk}/edit/",
        lambda w, _n: _customer_of(w),
        CUSTOMER_FIELDS,
        Customer,
        target=lambda w: w.a.customer1,
    ),
    FormSpec(
        "customer user create",
        "tenant_admin",
        lambda w: f"/customers/{w.a.customer1.pk}/users/new/",
        _user_base,
        USER_FIELDS,
        User,
    ),
    FormSpec(
        "customer user edit",
        "tenant_admin",
        lambda w: f"/customers/{w.a.customer1.pk}/users/{w.a.cuser1.pk}/edit/",
        lambda w, _n: {**_user_of(w.a.cuser1), "is_active": "on"},
        USER_FIELDS,
        User,
        target=lambda w: w.a.cuser1,
    ),
    FormSpec("administrator create", "tenant_admin", lambda _w: "/administrators/new/", _user_base, USER_FIELDS, User),
    FormSpec(
        "administrator edit",
        "tenant_admin",
        lambda w: f"/administrators/{w.a.admin2.pk}/edit/",
        lambda w, _n: {**_user_of(w.a.admin2), "is_active": "on"},
        USER_FIELDS,
        User,
        target=lambda w: w.a.admin2,
    ),
    FormSpec(
        "tenant create",
        "sysadmin",
        lambda _w: "/system/tenants/new/",
        lambda _w, n: {"name": f"Base MSP {n}"},
        {"name": ("text", 200)},
        Tenant,
    ),
    FormSpec(
        "tenant edit",
        "sysadmin",
        lambda w: f"/system/tenants/{w.tenants['charlie'].tenant.pk}/edit/",
        lambda w, _n: {"name": w.tenants["charlie"].tenant.name, "is_active": "on"},
        {"name": ("text", 200)},
        Tenant,
        target=lambda w: w.tenants["charlie"].tenant,
    ),
    FormSpec(
        "tenant administrator create",
        "sysadmin",
        lambda w: f"/system/tenants/{w.tenants['charlie'].tenant.pk}/admins/new/",
        _user_base,
        USER_FIELDS,
        User,
    ),
    FormSpec(
        "profile",
        "customer_user",
        lambda _w: "/profile/",
        lambda _w, _n: {"first_name": "Self", "last_name": "Person", "phone": ""},
        PROFILE_FIELDS,
        User,
        target=lambda w: w.a.cuser1,
        ok=302,
    ),
]
FORM_FIELDS = [(spec, field) for spec in FORMS for field in spec.fields]


@pytest.mark.parametrize(("spec", "field"), FORM_FIELDS, ids=[f"{s.name}-{f}" for s, f in FORM_FIELDS])
def test_form_field_refuses_or_stores_odd_input(world, spec, field):
    actor = _actor(world, spec.role)
    kind, max_length = spec.fields[field]
    url = spec.url(world)
    for payload in TEXT_PAYLOADS:
        context = f"{spec.name}: {field}={payload.name}"
        data = {**spec.base(world, next(_unique)), field: payload.value}
        before = snapshot()
        response = actor.page("POST", url, data)
        TRIED["bad input: form posts"] += 1
        assert response.status_code < 500, f"{context}: {describe(response)}"
        assert_html_safe(response, context)
        if accepted(payload, kind, max_length):
            assert response.status_code == spec.ok, f"{context}: {describe(response)}"
            obj = spec.target(world) if spec.target else spec.model._base_manager.order_by("-pk").first()
            obj.refresh_from_db()
            assert getattr(obj, field) == stored_form(payload.value), context
            page = actor.page("GET", response["Location"])
            assert page.status_code == 200, f"{context}: {describe(page)}"
            assert_html_safe(page, context)
            if payload.value == MARKUP:
                assert ESCAPED_MARKUP in page.content.decode(), f"{context}: not shown escaped"
        else:
            assert response.status_code == 422, f"{context}: {describe(response)}"
            html = response.content.decode()
            assert f'id="id_{field}_error"' in html, f"{context}: no error next to the field"
            assert_unchanged(before, snapshot(), context=context)


def test_create_forms_with_every_field_huge_at_once(world):
    for spec in FORMS:
        actor = _actor(world, spec.role)
        before = snapshot()
        response = actor.page("POST", spec.url(world), dict.fromkeys(spec.fields, "y" * 100_000))
        assert response.status_code == 422, f"{spec.name}: {describe(response)}"
        assert_unchanged(before, snapshot(), context=spec.name)


def test_repeated_and_unknown_form_fields_are_harmless(world):
    actor = _actor(world, "tenant_admin")
    body = "company_name=A&company_name=B&first_name=x&last_name=y&email=r@r.test&unknown=%00&id=1&tenant=2"
    response = actor.client.post("/customers/new/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 422), describe(response)
    # Undecodable bytes in a form body are replaced, not fatal.
    response = actor.client.post(
        "/customers/new/",
        b"company_name=%ff%fe&first_name=x&last_name=y&email=q@q.test",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (303, 422), describe(response)


# Pages: sign-in, activation, forgot password, password change --------------------------------


def forget_failed_sign_ins() -> None:
    """Each odd input is judged on its own, not refused by the lockout its predecessors (wrong
    passwords, all of them) have set off; the lockout is tested in tests/users/test_lockout.py."""
    AccessAttempt.objects.all().delete()


def test_login_refuses_bad_input_with_a_message(world):
    anon = Actor()
    for payload in TEXT_PAYLOADS:
        for data in (
            {"username": payload.value, "password": PASSWORD},
            {"username": world.a.admin.email, "password": payload.value},
        ):
            context = f"login {payload.name} {list(data)}"
            forget_failed_sign_ins()
            before = snapshot()
            response = anon.page("POST", "/login/", data)
            # Django's LoginView answers a refused sign-in with 200 (tests/users pins that); every
            # other form here answers 422. Either way: the form again, with the error shown.
            assert response.status_code == 200 or 400 <= response.status_code < 500, f"{context}: {describe(response)}"
            assert_html_safe(response, context)
            assert 'role="alert"' in response.content.decode() or "_error" in response.content.decode(), context
            assert_unchanged(before, snapshot(), context=context, sign_in=True)
            assert "_auth_user_id" not in anon.client.session


def _activation_url(user: Any) -> str:
    return f"/activate/{urlsafe_base64_encode(force_bytes(user.pk))}/{activation_token.make_token(user)}/"


def test_activation_refuses_bad_passwords_and_bad_links(world):
    anon = Actor()
    user = world.a.pending_admin
    url = _activation_url(user)
    for data in (
        {"password": "x" * 100_000, "password_again": "x" * 100_000},
        {"password": "nul\x00byte-long-enough", "password_again": "nul\x00byte-long-enough"},
        {"password": "short", "password_again": "short"},
        {"password": "a-Good-passphrase-1", "password_again": "another-Passphrase-2"},
        {"password": "", "password_again": ""},
        {"password": MARKUP, "password_again": MARKUP + "x"},
    ):
        before = snapshot()
        response = anon.page("POST", url, data)
        assert response.status_code == 422, f"{data['password'][:20]!r}: {describe(response)}"
        assert "_error" in response.content.decode()
        assert_html_safe(response, "activate")
        assert_unchanged(before, snapshot(), context="activate")
    user.refresh_from_db()
    assert user.activated_at is None
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    for uidb64, token in [
        ("abc", "def"),
        ("MQ", "x" * 1000),
        (uid, "1-2"),
        (urlsafe_base64_encode(b"99999999999999999999"), "x"),
        (urlsafe_base64_encode(b"-1"), "x"),
        (urlsafe_base64_encode(b"\xff\xfe"), "x"),
        ("%00", "%00"),
        ("x" * 5000, "y"),
        (urlsafe_base64_encode(MARKUP.encode()), MARKUP.replace("/", "")),
    ]:
        for method in ("GET", "POST"):
            response = anon.page(method, f"/activate/{uidb64}/{token}/", {"password": "a-Good-passphrase-1"})
            assert response.status_code in (400, 404), f"{uidb64[:20]}/{token[:20]}: {describe(response)}"
            assert_html_safe(response, "activate link")


def test_forgot_password_refuses_bad_email(world):
    anon = Actor()
    for payload in TEXT_PAYLOADS:
        before = snapshot()
        response = anon.page("POST", "/forgot-password/", {"email": payload.value})
        assert response.status_code == 422, f"{payload.name}: {describe(response)}"
        assert 'id="id_email_error"' in response.content.decode(), payload.name
        assert_html_safe(response, payload.name)
        assert_unchanged(before, snapshot(), context=payload.name)


def test_password_change_refuses_bad_input(world):
    actor = _actor(world, "tenant_admin")
    for payload in [p for p in TEXT_PAYLOADS if p.refused] + [Payload("wrong", "not-the-password", True)]:
        for field in ("pw-old_password", "pw-password"):
            data = {"pw-old_password": PASSWORD, "pw-password": "a-Good-passphrase-1"}
            data["pw-password_again"] = data["pw-password"]
            data[field] = payload.value
            before = snapshot()
            response = actor.page("POST", "/profile/password/", data)
            assert response.status_code == 422, f"{payload.name} {field}: {describe(response)}"
            assert "_error" in response.content.decode()
            assert_unchanged(before, snapshot(), context=f"{payload.name} {field}")


# API: every create/update field, every payload ---------------------------------------------------


@dataclass(frozen=True)
class ApiSpec:
    name: str
    role: str
    method: str
    url: Callable[[World], str]
    base: Callable[[World, int], dict[str, Any]]
    fields: dict[str, tuple[str, int]]
    model: Any
    target: Callable[[World], Any] | None = None
    ok: int = 200


API_USER_FIELDS = {**USER_FIELDS, "role": ("choice", 0)}
API_SPECS = [
    ApiSpec(
        "customers create",
        "tenant_admin",
        "POST",
        lambda _w: "/api/v1/customers/",
        _customer_base,
        CUSTOMER_FIELDS,
        Customer,
        ok=201,
    ),
    ApiSpec(
        "customers update",
        "tenant_admin",
        "PATCH",
        lambda w: f"/api/v1/customers/{w.a.customer1.pk}/",
        lambda _w, _n: {},
        CUSTOMER_FIELDS,
        Customer,
        target=lambda w: w.a.customer1,
    ),
    ApiSpec(
        "customers replace",
        "tenant_admin",
        "PUT",
        lambda w: f"/api/v1/customers/{w.a.customer1.pk}/",
        lambda w, _n: _customer_of(w),
        CUSTOMER_FIELDS,
        Customer,
        target=lambda w: w.a.customer1,
    ),
    ApiSpec(
        "users create",
        "tenant_admin",
        "POST",
        lambda _w: "/api/v1/users/",
        lambda w, n: {**_user_base(w, n), "role": "customer_user", "customer": w.a.customer1.pk},
        API_USER_FIELDS,
        User,
        ok=201,
    ),
    ApiSpec(
        "users update",
        "tenant_admin",
        "PATCH",
        lambda w: f"/api/v1/users/{w.a.cuser1.pk}/",
        lambda _w, _n: {},
        USER_FIELDS,
        User,
        target=lambda w: w.a.cuser1,
    ),
    ApiSpec(
        "tenants create",
        "sysadmin",
        "POST",
        lambda _w: "/api/v1/tenants/",
        lambda _w, n: {"name": f"Api MSP {n}"},
        {"name": ("text", 200)},
        Tenant,
        ok=201,
    ),
    ApiSpec(
        "tenants update",
        "sysadmin",
        "PATCH",
        lambda w: f"/api/v1/tenants/{w.tenants['charlie'].tenant.pk}/",
        lambda _w, _n: {},
        {"name": ("text", 200)},
        Tenant,
        target=lambda w: w.tenants["charlie"].tenant,
    ),
]
API_SPECS += [
    ApiSpec(
        "cloud accounts create",
        "tenant_admin",
        "POST",
        lambda _w: "/api/v1/cloud-accounts/",
        lambda _w, n: {"category": "non_msp", "account_id": f"{500000000000 + n}", "name": f"Acc {n}"},
        {"name": ("text", 200), "account_id": ("account_id", 12), "category": ("choice", 0)},
        CloudAccount,
        ok=201,
    ),
    ApiSpec(
        "cloud accounts update",
        "tenant_admin",
        "PATCH",
        lambda w: f"/api/v1/cloud-accounts/{w.a.account.pk}/",
        lambda _w, _n: {},
        {"name": ("text", 200)},
        CloudAccount,
        target=lambda w: w.a.account,
    ),
]
API_FIELDS = [(spec, field) for spec in API_SPECS for field in spec.fields]


def _json_body(base: dict[str, Any], field: str, payload: Payload) -> str:
    if payload.raw_json is None:
        return json.dumps({**base, field: payload.value})
    body = json.dumps({**base, field: "__RAW__"})
    return body.replace('"__RAW__"', payload.raw_json)


@pytest.mark.parametrize(("spec", "field"), API_FIELDS, ids=[f"{s.name}-{f}" for s, f in API_FIELDS])
def test_api_field_refuses_or_stores_odd_input(world, spec, field):
    actor = _actor(world, spec.role)
    kind, max_length = spec.fields[field]
    url = spec.url(world)
    for payload in TEXT_PAYLOADS + JSON_ONLY_PAYLOADS:
        context = f"{spec.method} {spec.name}: {field}={payload.name}"
        body = _json_body(spec.base(world, next(_unique)), field, payload)
        before = snapshot()
        response = actor.api(spec.method, url, raw=body)
        TRIED["bad input: api writes"] += 1
        assert response.status_code < 500, f"{context}: {describe(response)}"
        if accepted(payload, kind, max_length):
            assert response.status_code == spec.ok, f"{context}: {describe(response)}"
            pk = response.json()["id"]
            obj = spec.model._base_manager.get(pk=pk)
            assert getattr(obj, field) == stored_form(payload.value), context
            assert response.json()[field] == stored_form(payload.value), context
        else:
            assert_api_error(response, 400, context, field)
            assert_unchanged(before, snapshot(), context=context)


BAD_BODIES = [
    ("list", "[1, 2]", "application/json"),
    ("list of objects", '[{"name": "x"}]', "application/json"),
    ("string", '"abc"', "application/json"),
    ("number", "42", "application/json"),
    ("null", "null", "application/json"),
    ("truncated", '{"name": ', "application/json"),
    ("empty", "", "application/json"),
    ("nul", '{"%(field)s": "\\u0000"}', "application/json"),
    ("not utf-8", b'{"name": "\xff\xfe"}', "application/json"),
    ("nested deep", "[" * 5000 + "]" * 5000, "application/json"),
    ("form encoded", "name=x", "application/x-www-form-urlencoded"),
    ("xml", "<name>x</name>", "application/xml"),
]


@pytest.mark.parametrize("spec", API_SPECS, ids=[s.name for s in API_SPECS])
def test_api_refuses_bodies_of_the_wrong_shape(world, spec):
    actor = _actor(world, spec.role)
    url = spec.url(world)
    for name, body, content_type in BAD_BODIES:
        if isinstance(body, str) and "%(field)s" in body:
            body = body % {"field": next(iter(spec.fields))}
        before = snapshot()
        headers = {"Authorization": f"Token {actor.token}"}
        response = actor.client.generic(spec.method, url, body, content_type=content_type, headers=headers)
        assert response.status_code < 500, f"{spec.name} {name}: {describe(response)}"
        if name == "empty" and spec.method == "PATCH":
            assert response.status_code == 200, f"{spec.name} {name}: {describe(response)}"  # an empty change
            continue
        assert_api_error(response, (400, 415), f"{spec.name} {name}")
        assert_unchanged(before, snapshot(), context=f"{spec.name} {name}")


@pytest.mark.parametrize("value", BAD_JSON_IDS, ids=repr)
def test_api_refuses_malformed_ids_in_bodies(world, value):
    admin = _actor(world, "tenant_admin")
    sysadmin = _actor(world, "sysadmin")
    before = snapshot()
    for actor, field, body in (
        (admin, "customer", {"email": "id@alpha.test", "role": "customer_user", "customer": value}),
        (admin, "tenant", {"email": "id@alpha.test", "role": "tenant_admin", "tenant": value}),
        (sysadmin, "tenant", {"email": "id@alpha.test", "role": "tenant_admin", "tenant": value}),
    ):
        response = actor.api("POST", "/api/v1/users/", body)
        assert_api_error(response, 400, f"{field}={value!r}", field)
    assert_unchanged(before, snapshot(), actor=world.a.admin)


def test_token_endpoint_refuses_bad_input(world):
    anon = Actor()
    for payload in TEXT_PAYLOADS + JSON_ONLY_PAYLOADS:
        for field in ("email", "password"):
            base = {"email": world.a.admin.email, "password": PASSWORD}
            forget_failed_sign_ins()
            before = snapshot()
            response = anon.api("POST", "/api/v1/auth/token/", raw=_json_body(base, field, payload))
            assert_api_error(response, 400, f"token {field}={payload.name}")
            assert_unchanged(before, snapshot(), context=f"token {field}={payload.name}", sign_in=True)
    for _, body, content_type in BAD_BODIES:
        if isinstance(body, str):
            body = body % {"field": "email"} if "%(field)s" in body else body
        response = anon.client.generic("POST", "/api/v1/auth/token/", body, content_type=content_type)
        assert_api_error(response, (400, 415), f"token body {body[:20]!r}")


# Ids in URLs ----------------------------------------------------------------------------------


def _object_routes() -> list[Any]:
    return [r for r in all_routes() if any(k.endswith("_id") or k == "pk" for k in r.kwargs)]


@pytest.mark.parametrize("route", _object_routes(), ids=str)
def test_malformed_and_huge_ids_in_urls_answer_404(world, route):
    sentinel = 987654321
    own = {
        "customer_id": world.a.customer1.pk,
        "user_id": world.a.cuser1.pk,
        "tenant_id": world.a.tenant.pk,
        "account_id": world.a.account.pk,
        "job_id": world.a.job.pk,
        "pk": world.a.customer1.pk,
    }
    role = "sysadmin" if route.name.startswith("tenants:") or route.api_resource == "tenants" else "tenant_admin"
    actor = _actor(world, role)
    for kwarg in [k for k in route.kwargs if k in own or k.endswith("_id")]:
        kwargs = {k: own.get(k, 1) for k in route.kwargs}
        kwargs[kwarg] = sentinel
        template = route.url(**kwargs)
        for bad in BAD_IDS:
            url = template.replace(str(sentinel), bad.replace(" ", "%20"))
            for method in ("GET", "POST"):
                before = snapshot()
                response = actor.api(method, url, {}) if route.is_api else actor.page(method, url, {})
                context = f"{method} {url}"
                TRIED["bad input: malformed ids"] += 1
                assert response.status_code in (404, 405), f"{context}: {describe(response)}"
                if route.is_api and response.status_code == 404:
                    assert_api_error(response, 404, context)
                assert_unchanged(before, snapshot(), actor=actor.user, context=context)


# List query parameters ------------------------------------------------------------------------

LIST_PARAM_VALUES = [p.value for p in TEXT_PAYLOADS] + BAD_IDS + ["", "-", "--email", "email,-id", "__all__", "pk"]

PAGE_LISTS = [
    ("tenant_admin", "/customers/"),
    ("tenant_admin", "/customers/{c}/users/"),
    ("tenant_admin", "/administrators/"),
    ("tenant_admin", "/audit/"),
    ("tenant_admin", "/administration/accounts/"),
    ("tenant_admin", "/administration/accounts/aws/msp/"),
    ("tenant_admin", "/administration/accounts/aws/non-msp/"),
    ("tenant_admin", "/administration/accounts/aws/msp/{m}/accounts/"),
    ("sysadmin", "/system/tenants/"),
    ("sysadmin", "/system/tenants/{t}/admins/"),
    ("customer_user", "/"),
]
API_LISTS = [
    ("tenant_admin", "/api/v1/customers/"),
    ("tenant_admin", "/api/v1/users/"),
    ("tenant_admin", "/api/v1/audit-events/"),
    ("tenant_admin", "/api/v1/cloud-accounts/"),
    ("customer_user", "/api/v1/customers/"),
    ("customer_user", "/api/v1/cloud-accounts/"),
    ("sysadmin", "/api/v1/tenants/"),
    ("sysadmin", "/api/v1/users/"),
]
PAGE_PARAMS = ("q", "sort", "page", "per_page", "outcome", "search", "ordering")
API_PARAMS = (
    "search",
    "ordering",
    "page",
    "page_size",
    "customer",
    "role",
    "actor",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "since",
    "until",
    "category",
    "kind",
    "parent",
    "aws_state",
    "onboarding_status",
    "q",
)


def _fill(url: str, w: World) -> str:
    return url.format(c=w.a.customer1.pk, m=w.a.management.pk, t=w.tenants["charlie"].tenant.pk)


@pytest.mark.parametrize(("role", "url"), PAGE_LISTS + API_LISTS, ids=[f"{r}:{u}" for r, u in PAGE_LISTS + API_LISTS])
def test_list_query_parameters_never_fail(world, role, url):
    actor = _actor(world, role)
    url = _fill(url, world)
    api = url.startswith("/api/")
    before = snapshot()
    for param in API_PARAMS if api else PAGE_PARAMS:
        for value in LIST_PARAM_VALUES:
            if "\x00" in value:
                continue  # NUL bytes in query strings: see test_nul_bytes_in_query_strings_are_400
            context = f"{url}?{param}={value[:30]!r}"
            response = actor.api("GET", url, {param: value}) if api else actor.page("GET", url, {param: value})
            TRIED["bad input: list queries"] += 1
            assert response.status_code in (200, 400, 404), f"{context}: {describe(response)}"
            if api and response.status_code != 200:
                assert_api_error(response, (400, 404), context)
            assert_html_safe(response, context)
    # Many parameters at once, each odd.
    params = dict.fromkeys(API_PARAMS if api else PAGE_PARAMS, MARKUP)
    response = actor.api("GET", url, params) if api else actor.page("GET", url, params)
    assert response.status_code in (200, 400, 404), describe(response)
    assert_unchanged(before, snapshot(), actor=actor.user, context=url)


@pytest.mark.parametrize("url", ["/customers/", "/audit/", "/api/v1/customers/", "/api/v1/audit-events/"])
def test_nul_bytes_in_query_strings_are_400(world, url):
    actor = _actor(world, "tenant_admin")
    for query in ("q=a%00b", "search=%00", "page=1%00", "ordering=%00"):
        response = actor.client.get(f"{url}?{query}", headers={"Authorization": f"Token {actor.token}"})
        assert response.status_code == 400, f"{url}?{query}: {describe(response)}"
        if url.startswith("/api/"):
            assert_api_error(response, 400, f"{url}?{query}")


def test_search_box_echo_is_escaped(world):
    actor = _actor(world, "tenant_admin")
    for url in ("/customers/", "/administrators/", "/audit/", f"/customers/{world.a.customer1.pk}/users/"):
        for htmx in (False, True):
            response = actor.page("GET", url, {"q": MARKUP}, htmx=htmx)
            assert response.status_code == 200, describe(response)
            assert MARKUP not in response.content.decode()
