"""Every error is JSON `{"detail", "errors"}`; foreign and unknown ids look the same; bad input is
never a 500 (the test client re-raises any exception a view lets escape)."""

import json

import pytest

from cloudmsp.customers.models import Customer
from cloudmsp.users.models import User
from tests.api.helpers import assert_error, url

pytestmark = pytest.mark.django_db

LISTS = ["customers/", "users/", "audit-events/"]


def test_400_names_each_field(admin_api):
    body = assert_error(admin_api.post(url("customers/"), {"email": "nope"}, format="json"), 400)
    assert set(body["errors"]) == {"company_name", "first_name", "last_name", "email"}
    assert body["errors"]["company_name"] == ["This field is required."]


def test_400_for_a_body_that_is_not_an_object(admin_api):
    assert_error(admin_api.post(url("customers/"), [1, 2], format="json"), 400, "non_field_errors")
    assert_error(admin_api.post(url("customers/"), "[", content_type="application/json"), 400)
    assert_error(admin_api.post(url("customers/"), "a=b", content_type="application/x-www-form-urlencoded"), 415)


def test_401_and_403(anon, customer_api):
    assert_error(anon.get(url("customers/")), 401)
    assert_error(anon.post(url("customers/"), {}, format="json"), 401)
    assert_error(customer_api.post(url("customers/"), {}, format="json"), 403)


@pytest.mark.parametrize("resource", ["customers", "users"])
def test_foreign_and_unknown_ids_answer_the_same_404(admin_api, foreign, resource):
    foreign_id = foreign.customer.pk if resource == "customers" else foreign.customer_user.pk
    for method, body in (("get", None), ("patch", {"first_name": "x"}), ("put", {}), ("delete", None)):
        call = getattr(admin_api, method)
        seen = call(url(f"{resource}/{foreign_id}/"), body, format="json")
        missing = call(url(f"{resource}/987654321/"), body, format="json")
        assert_error(seen, 404)
        assert seen.json() == missing.json()


@pytest.mark.parametrize(
    "path",
    [
        "customers/abc/",
        "customers/0/",
        "customers/-1/",
        "customers/1.5/",
        "customers/99999999999999999999999/",
        "users/abc/send-activation/",
        "tenants/abc/",
        "audit-events/%00/",
        "no-such-endpoint/",
        "customers/1/no-such-action/",
    ],
)
def test_unknown_paths_and_ids_are_json_404(admin_api, path):
    assert_error(admin_api.get(url(path)), 404)


def test_405_is_json(admin_api, customer):
    assert_error(admin_api.delete(url("customers/")), 405)
    assert_error(admin_api.get(url(f"users/{customer.pk}/send-activation/")), 405)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": "99999999999999999999999"},
        {"page_size": "0"},
        {"page_size": "-5"},
        {"page_size": "abc"},
        {"page_size": "99999999999999999999999"},
        {"ordering": "password"},
        {"ordering": "-tenant__name"},
        {"search": "x" * 5000},
        {"search": "%_\\'\""},
        {"search": "\u202e\ud7ff\U0001f600"},
        {"customer": "abc"},
        {"customer": "99999999999999999999999"},
        {"role": "sysadmin"},
        {"object_id": "x" * 500},
        {"actor": "\u0301" * 300},
        {"since": "x" * 500},
    ],
)
@pytest.mark.parametrize("path", LISTS)
def test_odd_list_parameters_never_500(admin_api, customer, customer_user, path, params):
    response = admin_api.get(url(path), params)
    assert response.status_code in (200, 400, 404)
    if response.status_code == 200:
        assert set(response.json()) == {"count", "next", "previous", "results"}
    else:
        assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "body",
    [
        {"company_name": "A\x00B", "first_name": "a", "last_name": "b", "email": "a@b.io"},
        {"company_name": "x" * 10_000, "first_name": "a", "last_name": "b", "email": "a@b.io"},
        {"company_name": 12, "first_name": ["a"], "last_name": {"b": 1}, "email": None},
        {"company_name": "Ok", "first_name": "a", "last_name": "b", "email": "a@b.io", "description": "d" * 2001},
        {"company_name": "Ok", "first_name": "a", "last_name": "b", "email": "\x00@b.io"},
        {"company_name": "Ok", "first_name": "a", "last_name": "b", "email": "a@b.io", "country": "\ud800"},
    ],
)
def test_odd_customer_bodies_are_400(admin_api, tenant, body):
    # ASCII JSON, so the lone surrogate travels as an escape sequence the server decodes.
    assert_error(admin_api.post(url("customers/"), json.dumps(body), content_type="application/json"), 400)
    assert not Customer.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"email": "n@x.io", "role": "customer_user", "customer": 2**70},
        {"email": "n@x.io", "role": "customer_user", "customer": -1},
        {"email": "n@x.io", "role": "customer_user", "customer": True},
        {"email": "n@x.io", "role": "customer_user", "customer": "1e400"},
        {"email": "n@x.io", "role": "customer_user", "customer": [1]},
        {"email": "n@x.io", "role": "tenant_admin", "tenant": 2**70},
        {"email": "n@x.io", "role": ["tenant_admin"]},
        {"email": "n\x00@x.io", "role": "tenant_admin"},
        {"email": "n@x.io", "role": "tenant_admin", "first_name": "\x00"},
        {"email": "n@x.io", "role": "\ud800"},
        {"email": "a@\ud800.io", "role": "tenant_admin"},
    ],
)
def test_odd_user_bodies_are_400(admin_api, customer, body):
    before = User.unscoped.count()
    assert_error(admin_api.post(url("users/"), json.dumps(body), content_type="application/json"), 400)
    assert User.unscoped.count() == before


def test_an_invalid_choice_echoing_a_lone_surrogate_is_400(admin_api):
    body = json.dumps({"email": "n@x.io", "role": "\ud800tenant_admin"})
    response = admin_api.post(url("users/"), body, content_type="application/json")
    message = assert_error(response, 400, "role")["errors"]["role"][0]
    assert message.endswith('tenant_admin" is not a valid choice.')


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a\x00@b.io", "password": "x"},
        {"email": "admin@home.test", "password": "\x00"},
        {"email": "admin@home.test", "password": "\ud800"},
        {"email": "a@\ud800.io", "password": "x"},
        {"email": "admin@home.test", "password": "correct-horse-battery-9", "name": "\ud800"},
        {"email": ["admin@home.test"], "password": "x"},
        [],
    ],
)
def test_odd_token_requests_are_400(anon, admin, body):
    assert_error(anon.post(url("auth/token/"), json.dumps(body), content_type="application/json"), 400)


def test_options_never_500(admin_api, customer_api, customer):
    assert admin_api.options(url("customers/")).status_code == 200
    assert admin_api.options(url(f"customers/{customer.pk}/")).status_code == 200
    assert customer_api.options(url("customers/")).status_code in (200, 403)
