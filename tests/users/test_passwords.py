"""Password rules (settings.AUTH_PASSWORD_VALIDATORS): at least 10 characters, not a common
password, not too close to the user's email or names, not only digits. Each is refused, next to
the field, wherever a password is chosen: activation, reset and change."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cloudmsp.users.models import User
from cloudmsp.users.tokens import activation_path
from tests.factories import PASSWORD, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "marguerite.yourcenar@acme.test"
RULES = {
    # rule: (a password that breaks only this rule, the message shown)
    "length": ("Sh0rt-pw!", "This password is too short. It must contain at least 10 characters."),
    "common": ("qwertyuiop", "This password is too common."),
    "similarity": ("marguerite.yourcenar", "The password is too similar to the email."),
    "numeric": ("4829104738", "This password is entirely numeric."),
}
GOOD = "Correct-Horse-Battery-97"


@pytest.fixture
def person() -> User:
    return UserFactory(tenant=TenantFactory(name="Rules MSP"), email=EMAIL, first_name="Marguerite", last_name="Y")


def _set_from_link(client: Client, user: User, password: str):
    return client.post(activation_path(user), {"password": password, "password_again": password})


def _assert_refused(response, message: str) -> None:
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert "_error" in html  # shown next to the field (aria-describedby="id_..._error")


@pytest.mark.parametrize("rule", RULES)
def test_activation_refuses_each_rule(person, rule):
    person.activated_at = None
    person.set_unusable_password()
    person.save()
    password, message = RULES[rule]
    client = Client()
    _assert_refused(_set_from_link(client, person, password), message)
    person.refresh_from_db()
    assert person.activated_at is None
    assert not person.has_usable_password()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("rule", RULES)
def test_reset_refuses_each_rule(person, rule):
    password, message = RULES[rule]
    _assert_refused(_set_from_link(Client(), person, password), message)
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


@pytest.mark.parametrize("rule", RULES)
def test_change_refuses_each_rule(person, client_for, rule):
    password, message = RULES[rule]
    response = client_for(person).post(
        reverse("users:password_change"),
        {"pw-old_password": PASSWORD, "pw-password": password, "pw-password_again": password},
    )
    _assert_refused(response, message)
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_a_password_keeping_every_rule_is_accepted_everywhere(person, client_for):
    client = client_for(person)
    response = client.post(
        reverse("users:password_change"),
        {"pw-old_password": PASSWORD, "pw-password": GOOD, "pw-password_again": GOOD},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(GOOD)
    assert _set_from_link(Client(), person, GOOD + "x").status_code == 302
    person.activated_at = None
    person.save()
    assert _set_from_link(Client(), person, "Another-Good-Passphrase-5").status_code == 302
    person.refresh_from_db()
    assert person.activated_at is not None
    assert person.activated_at <= timezone.now()


def test_similarity_also_covers_the_names(person, client_for):
    person.first_name = "Hieronymus"
    person.save()
    response = client_for(person).post(
        reverse("users:password_change"),
        {"pw-old_password": PASSWORD, "pw-password": "hieronymus1", "pw-password_again": "hieronymus1"},
    )
    _assert_refused(response, "The password is too similar to the first name.")
