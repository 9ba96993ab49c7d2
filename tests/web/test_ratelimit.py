"""Rate limits of the pages: the same budgets as the API (one counter for both faces of an
action), 429 with Retry-After and a message where the user is looking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, CloudAccountFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 2
HTMX = {"HTTP_HX_REQUEST": "true"}
IN_DIALOG = {**HTMX, "HTTP_HX_TARGET": "modal-content"}
IN_FLASH = {**HTMX, "HTTP_HX_TARGET": "flash"}


@pytest.fixture(autouse=True)
def limits(settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, f"{LIMIT}/min")


@pytest.fixture
def account(admin):
    # Stand-alone, without a role: every action answers at once, without AWS.
    return CloudAccountFactory(tenant=admin.tenant)


def _retry_after(response) -> int:
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    return seconds


# (url name, takes the account id, POST data)
PAGE_ACTIONS = [
    ("cloud:sync", True, {}),
    ("cloud:validate", True, {}),
    ("cloud:connect", True, {"role_arn": "not-an-arn"}),
    ("cloud:onboard", True, {"method": "manual", "role_arn": "not-an-arn"}),
    ("cloud:remove_role", True, {}),
    ("cloud:link", False, {"accounts": ["999999999"], "customer": "999999999"}),
    ("cloud:unlink", False, {"accounts": ["999999999"]}),
]


@pytest.mark.parametrize(("name", "by_id", "data"), PAGE_ACTIONS, ids=[a[0] for a in PAGE_ACTIONS])
def test_page_action_is_limited_per_tenant_with_a_message_in_the_dialog(client_for, admin, account, name, by_id, data):
    target = reverse(name, kwargs={"account_id": account.pk}) if by_id else reverse(name)
    client = client_for(admin)
    for _ in range(LIMIT):
        assert client.post(target, data, **IN_DIALOG).status_code != 429
    response = client.post(target, data, **IN_DIALOG)
    _retry_after(response)
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="modal-title">Too many requests' in html
    assert "for your organization right now. Try again in" in html
    assert "data-close-modal" in html
    # Another MSP is not affected.
    other = UserFactory(tenant=TenantFactory())
    other_account = CloudAccountFactory(tenant=other.tenant)
    other_target = reverse(name, kwargs={"account_id": other_account.pk}) if by_id else reverse(name)
    assert client_for(other).post(other_target, data, **IN_DIALOG).status_code != 429


def test_opening_a_dialog_is_not_counted(client_for, admin, account):
    client = client_for(admin)
    for _ in range(LIMIT * 3):
        assert client.get(reverse("cloud:connect", kwargs={"account_id": account.pk}), **IN_DIALOG).status_code == 200


def test_message_goes_to_the_flash_area_when_the_action_answers_there(client_for, admin, account):
    client = client_for(admin)
    target = reverse("cloud:validate", kwargs={"account_id": account.pk})
    for _ in range(LIMIT):
        client.post(target, **IN_FLASH)
    response = client.post(target, **IN_FLASH)
    _retry_after(response)
    assert response["HX-Retarget"] == "#flash"
    assert 'role="alert">Too many role validations' in response.content.decode()


def test_without_htmx_the_message_is_a_page(client_for, admin, account):
    client = client_for(admin)
    target = reverse("cloud:sync", kwargs={"account_id": account.pk})
    for _ in range(LIMIT):
        client.post(target)
    response = client.post(target)
    _retry_after(response)
    html = response.content.decode()
    assert "<html" in html
    assert "<h1>Too many requests</h1>" in html
    assert "Too many organization syncs" in html


def test_the_page_and_the_api_share_one_budget(client_for, api_for, admin, account):
    client_for(admin).post(reverse("cloud:sync", kwargs={"account_id": account.pk}), **IN_DIALOG)
    api_for(admin).post(f"/api/v1/cloud-accounts/{account.pk}/sync/")
    response = client_for(admin).post(reverse("cloud:sync", kwargs={"account_id": account.pk}), **IN_DIALOG)
    _retry_after(response)
    response = api_for(admin).post(f"/api/v1/cloud-accounts/{account.pk}/sync/")
    assert response.status_code == 429


def test_customer_users_cannot_use_up_their_msps_budget(client_for, admin, customer_user, account):
    target = reverse("cloud:sync", kwargs={"account_id": account.pk})
    for _ in range(LIMIT * 2):
        assert client_for(customer_user).post(target, **IN_DIALOG).status_code in (403, 404, 429)
    assert client_for(admin).post(target, **IN_DIALOG).status_code != 429


# Signing in -----------------------------------------------------------------------------------


def _sign_in(client, email: str, password: str = "wrong-password-1", ip: str = "127.0.0.1"):
    return client.post(reverse("users:login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_is_limited_per_email(client):
    for i in range(LIMIT):
        assert _sign_in(client, "victim@example.test", ip=f"10.0.0.{i}").status_code != 429
    response = _sign_in(client, "VICTIM@example.test", ip="10.0.0.99")
    _retry_after(response)
    html = response.content.decode()
    assert "Too many sign-in attempts for this email. Try again in" in html
    assert reverse("users:login") in html  # a way back to the sign-in page
    assert _sign_in(client, "someone-else@example.test", ip="10.0.0.98").status_code != 429


def test_sign_in_is_limited_per_address(client):
    for i in range(LIMIT):
        assert _sign_in(client, f"guess{i}@example.test", ip="10.5.5.5").status_code != 429
    response = _sign_in(client, "guess-next@example.test", ip="10.5.5.5")
    _retry_after(response)
    assert "sign-in attempts from your address" in response.content.decode()


def test_the_sign_in_page_itself_is_not_counted(client):
    for _ in range(LIMIT * 3):
        assert client.get(reverse("users:login")).status_code == 200


def test_a_limited_email_is_refused_even_with_the_right_password(client, admin):
    for i in range(LIMIT):
        _sign_in(client, admin.email, ip=f"10.1.0.{i}")
    response = _sign_in(client, admin.email, password=PASSWORD, ip="10.1.0.9")
    _retry_after(response)
    assert "_auth_user_id" not in client.session
