"""The column chooser (issue 15): which optional columns of a table each user sees, saved on the
server for that user and applied to the server-rendered table."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cloudmsp.users.models import User
from cloudmsp.users.services import user_choose_columns
from tests.factories import CloudAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CUSTOMER_COLUMNS = ["first_name", "last_name", "email", "accounts", "users"]


def save(client, **data):
    return client.post(reverse("users:columns"), data, **HTMX)


# The service ------------------------------------------------------------------------------------


def test_choosing_keeps_the_hidden_columns_for_that_user_and_table(admin, tenant):
    other = UserFactory(tenant=tenant)
    hidden = user_choose_columns(user=admin, table="customers", shown=["email", "users"])
    assert hidden == ["first_name", "last_name", "accounts"]
    user_choose_columns(user=admin, table="accounts", shown=[])
    admin.refresh_from_db()
    assert admin.preferences["hidden_columns"]["customers"] == ["first_name", "last_name", "accounts"]
    assert len(admin.preferences["hidden_columns"]["accounts"]) == 7
    other.refresh_from_db()
    assert other.preferences == {}


@pytest.mark.parametrize(
    ("table", "shown", "message"),
    [
        ("nope", [], "There is no table “nope”"),
        ("customers", ["email", "password"], "Unknown column “password”"),
        ("customers", ["company_name"], "Unknown column “company_name”"),  # always shown
    ],
)
def test_unknown_tables_and_columns_are_refused(admin, table, shown, message):
    with pytest.raises(ValidationError) as exc:
        user_choose_columns(user=admin, table=table, shown=shown)
    assert message in exc.value.messages[0]
    admin.refresh_from_db()
    assert admin.preferences == {}


# The endpoint ----------------------------------------------------------------------------------


def test_saving_by_htmx_makes_the_table_reload(admin_client, admin):
    response = save(admin_client, table="customers", shown=["email"])
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"customers-changed": {}}
    admin.refresh_from_db()
    assert admin.preferences["hidden_columns"]["customers"] == ["first_name", "last_name", "accounts", "users"]
    response = save(admin_client, table="accounts", shown=["name"])
    assert json.loads(response["HX-Trigger"]) == {"accounts-changed": {}}


def test_saving_without_htmx_goes_back_to_the_page_it_came_from(admin_client):
    url = reverse("users:columns")
    response = admin_client.post(url, {"table": "customers", "shown": ["email"], "next": "/customers/?q=a"})
    assert (response.status_code, response["Location"]) == (303, "/customers/?q=a")
    response = admin_client.post(url, {"table": "customers", "next": "https://evil.example/"})
    assert (response.status_code, response["Location"]) == (303, reverse("users:profile"))


@pytest.mark.parametrize(
    "data",
    [
        {"table": "customers", "shown": ["<script>alert(1)</script>"]},
        {"table": "x" * 5000},
        {},
        {"table": "customers", "shown": ["email"] * 500 + ["bad"]},
    ],
)
def test_bad_input_answers_400_with_a_message(admin_client, admin, data):
    response = save(admin_client, **data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "<script>" not in text
    assert "column" in text or "table" in text
    admin.refresh_from_db()
    assert admin.preferences == {}
    plain = admin_client.post(reverse("users:columns"), data)
    assert plain.status_code == 400
    assert plain["Content-Type"].startswith("text/plain")


def test_saving_needs_the_csrf_token(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse("users:columns"), {"table": "customers"}).status_code == 403
    assert client.get(reverse("users:columns")).status_code == 405


# Applied to the tables ---------------------------------------------------------------------------


def test_hidden_columns_are_not_rendered_for_that_user_only(admin_client, admin, customer, tenant, client_for):
    save(admin_client, table="customers", shown=["accounts"])
    html = admin_client.get(reverse("customers:list")).content.decode()
    assert customer.email not in html
    assert ">Email" not in html
    assert ">First Name" not in html
    assert ">Accounts" in html
    assert 'name="shown" value="email">' in html  # unchecked in the chooser
    assert 'name="shown" value="accounts" checked>' in html
    other = client_for(UserFactory(tenant=tenant))
    assert ">Email" in other.get(reverse("customers:list")).content.decode()


def test_hidden_account_columns_apply_to_every_account_table(admin_client, tenant):
    CloudAccountFactory(tenant=tenant, account_id="111122223333", name="Prod-workload")
    save(admin_client, table="accounts", shown=["customer", "health"])
    for route in ("cloud:accounts", "cloud:non_msp"):
        html = admin_client.get(reverse(route)).content.decode()
        assert "Prod-workload" not in html
        assert "Onboarding</a>" not in html
        assert "Customer</a>" in html
        assert "Health</a>" in html
        assert "111122223333" in html


def test_a_stale_choice_does_not_break_the_table(admin_client, admin, customer):
    User.unscoped.filter(pk=admin.pk).update(preferences={"hidden_columns": {"customers": ["gone", "email"], "old": 3}})
    html = admin_client.get(reverse("customers:list")).content.decode()
    assert ">Email" not in html
    assert ">First Name" in html
    User.unscoped.filter(pk=admin.pk).update(preferences={"hidden_columns": ["junk"]})
    assert admin_client.get(reverse("customers:list")).status_code == 200
    save(admin_client, table="customers", shown=CUSTOMER_COLUMNS)
    admin.refresh_from_db()
    assert admin.preferences["hidden_columns"] == {"customers": []}
