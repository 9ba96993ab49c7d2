"""Optional two-factor authentication (TOTP): set up from the profile (QR code as inline SVG and
the secret as text, confirmed with a code), asked for after the password before the session is
signed in, removed with a code, and required of administrators by their tenant."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from cloudmsp.audit.models import AuditEvent
from cloudmsp.tenants.services import tenant_update
from cloudmsp.users import signin
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import ApiToken
from tests.api.helpers import assert_error, url
from tests.factories import PASSWORD, CustomerUserFactory, SysadminFactory, UserFactory
from tests.users.conftest import current_code, totp_code, wrong_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("users:login")
VERIFY = reverse("users:login_verify")
SETUP = reverse("users:two_factor")
CONFIRM = reverse("users:two_factor_confirm")
REMOVE = reverse("users:two_factor_remove")
PROFILE = reverse("users:profile")


def enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def password_step(client: Client, user, **data: str):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD, **data})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Setting it up ------------------------------------------------------------------------------------


def test_set_up_from_the_profile_with_a_qr_code_and_the_secret(admin, admin_client):
    profile = admin_client.get(PROFILE).content.decode()
    assert "Two-factor authentication" in profile
    assert "Set up two-factor authentication" in profile

    started = admin_client.post(SETUP, {"next": PROFILE})
    assert started.status_code == 303
    assert started["Location"] == PROFILE
    device = TOTPDevice.objects.get(user=admin)
    assert not device.confirmed

    html = admin_client.get(PROFILE).content.decode()
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'class="qr-code"' in svg
    assert "<title>QR code of your two-factor secret</title>" in svg
    # The page's CSP (style-src 'self', scripts from 'self' with a nonce) has nothing to refuse.
    assert "style=" not in svg
    assert "<style" not in html
    assert "<script>" not in html
    secret = re.search(r'id="totp-secret" value="([A-Z2-7 ]+)"', html).group(1)
    assert secret.replace(" ", "") in device.config_url
    assert 'data-copy="totp-secret"' in html

    wrong = admin_client.post(CONFIRM, {"code": wrong_code(device), "next": PROFILE})
    assert wrong.status_code == 422
    assert "This code is not correct" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    done = admin_client.post(CONFIRM, {"code": totp_code(device), "next": PROFILE})
    assert done.status_code == 303
    device.refresh_from_db()
    assert device.confirmed
    page = admin_client.get(PROFILE).content.decode()
    assert "Two-factor authentication is on" in page
    assert "Remove two-factor authentication" in page
    event = AuditEvent.unscoped.get(action="user.two_factor_enable")
    assert (event.tenant_id, event.actor_id) == (admin.tenant_id, admin.pk)


def test_the_csp_header_holds_on_the_set_up_page(admin_client):
    admin_client.post(SETUP)
    response = admin_client.get(SETUP)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<svg" in response.content.decode()


def test_starting_again_gives_a_new_secret_and_a_confirmed_device_is_not_replaced(admin, admin_client):
    admin_client.post(SETUP)
    first = TOTPDevice.objects.get(user=admin).key
    admin_client.post(SETUP)
    assert TOTPDevice.objects.filter(user=admin).count() == 1
    assert TOTPDevice.objects.get(user=admin).key != first
    device = TOTPDevice.objects.get(user=admin)
    admin_client.post(CONFIRM, {"code": totp_code(device)})
    assert admin_client.post(SETUP).status_code == 303
    assert "already on" in admin_client.get(PROFILE).content.decode()
    assert TOTPDevice.objects.filter(user=admin).count() == 1
    assert TOTPDevice.objects.get(user=admin).confirmed


def test_confirming_without_a_set_up_says_what_to_do(admin_client):
    response = admin_client.post(CONFIRM, {"code": "123456"})
    assert response.status_code == 422
    assert "Start the set-up first" in response.content.decode()


def test_codes_must_look_like_codes(admin, admin_client):
    admin_client.post(SETUP)
    for bad in ("", "12345", "abcdef", "1234567890123", "12 34 56 78"):
        response = admin_client.post(CONFIRM, {"code": bad})
        assert response.status_code == 422
        assert "id_code_error" in response.content.decode()
    assert not TOTPDevice.objects.get(user=admin).confirmed


def test_wrong_codes_in_a_row_make_the_device_wait(admin, admin_client):
    admin_client.post(SETUP)
    device = TOTPDevice.objects.get(user=admin)
    admin_client.post(CONFIRM, {"code": wrong_code(device)})
    # Right away, even the right code waits its turn, and the page says so.
    response = admin_client.post(CONFIRM, {"code": current_code(device)})
    assert response.status_code == 422
    assert "Too many wrong codes in a row: wait 1 second" in response.content.decode()
    assert not TOTPDevice.objects.get(user=admin).confirmed


# Signing in with it -------------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_before_the_session_is_signed_in(admin):
    device = enrol(admin)
    client = Client()
    client.get(LOGIN)
    client.session.save()
    first_key = client.session.session_key
    response = password_step(client, admin, next="/audit/")
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert not signed_in(client)
    assert client.session.session_key != first_key
    assert client.get(reverse("customers:list")).status_code == 302  # not yet

    page = client.get(VERIFY)
    assert page.status_code == 200
    assert "Code from your authenticator app" in page.content.decode()

    wrong = client.post(VERIFY, {"code": wrong_code(device)})
    assert wrong.status_code == 422
    assert "This code is not correct" in wrong.content.decode()
    assert not signed_in(client)

    done = client.post(VERIFY, {"code": totp_code(device)})
    assert done.status_code == 302
    assert done["Location"] == "/audit/"
    assert signed_in(client)
    assert client.get(reverse("customers:list")).status_code == 200


def test_a_code_is_accepted_once(admin):
    device = enrol(admin)
    code = totp_code(device)
    first = Client()
    password_step(first, admin)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    replay = Client()
    password_step(replay, admin)
    assert replay.post(VERIFY, {"code": code}).status_code == 422
    assert not signed_in(replay)


def test_the_second_step_needs_the_first_and_expires(admin, monkeypatch):
    device = enrol(admin)
    assert Client().get(VERIFY)["Location"] == LOGIN
    assert Client().post(VERIFY, {"code": totp_code(device)})["Location"] == LOGIN
    client = Client()
    password_step(client, admin)
    later = time.time() + signin.PENDING_TIMEOUT + 1
    monkeypatch.setattr(signin.time, "time", lambda: later)
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not signed_in(client)


def test_a_user_disabled_between_the_steps_is_not_signed_in(admin):
    device = enrol(admin)
    client = Client()
    password_step(client, admin)
    admin.is_active = False
    admin.save()
    assert client.post(VERIFY, {"code": totp_code(device)})["Location"] == LOGIN
    assert not signed_in(client)


def test_wrong_codes_count_towards_the_lockout(admin):
    device = enrol(admin)
    client = Client()
    password_step(client, admin)
    for _ in range(4):
        totp_code(device)  # no waiting between wrong codes: the lockout is what is tested here
        assert client.post(VERIFY, {"code": wrong_code(device)}).status_code == 422
    totp_code(device)
    locked = client.post(VERIFY, {"code": wrong_code(device)})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert locked["Retry-After"]
    # The password step is locked now too, right password or not.
    again = Client()
    assert password_step(again, admin).status_code == 429
    assert not signed_in(again)
    events = AuditEvent.unscoped.filter(action="auth.login_failed", object_id=str(admin.pk))
    assert events.count() == 5
    assert all("two-factor code" in e.message for e in events)


def test_users_without_a_device_sign_in_with_the_password_alone(admin):
    client = Client()
    assert password_step(client, admin)["Location"] != VERIFY
    assert signed_in(client)


# Removing it --------------------------------------------------------------------------------------


def test_remove_needs_a_current_code(admin, admin_client):
    device = enrol(admin)
    wrong = admin_client.post(REMOVE, {"code": wrong_code(device)})
    assert wrong.status_code == 422
    assert TOTPDevice.objects.filter(user=admin).exists()
    done = admin_client.post(REMOVE, {"code": totp_code(device), "next": PROFILE})
    assert done.status_code == 303
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert AuditEvent.unscoped.filter(action="user.two_factor_disable", actor=admin).exists()
    client = Client()
    password_step(client, admin)
    assert signed_in(client)


def test_a_next_address_elsewhere_is_ignored(admin, admin_client):
    response = admin_client.post(SETUP, {"next": "https://evil.example/"})
    assert response["Location"] == PROFILE


# The API's sign-in --------------------------------------------------------------------------------


def test_token_endpoint_asks_for_the_code_of_users_with_a_device(admin):
    device = enrol(admin)
    api = APIClient()
    body = {"email": admin.email, "password": PASSWORD}
    assert_error(api.post(url("auth/token/"), body, format="json"), 400, "otp_code")
    assert_error(api.post(url("auth/token/"), {**body, "otp_code": wrong_code(device)}, format="json"), 400, "otp_code")
    ok = api.post(url("auth/token/"), {**body, "otp_code": totp_code(device)}, format="json")
    assert ok.status_code == 200
    assert ApiToken.objects.filter(user=admin).count() == 1


def test_wrong_password_with_a_device_says_nothing_of_the_device(admin):
    enrol(admin)
    response = APIClient().post(url("auth/token/"), {"email": admin.email, "password": "wrong-pass-123"}, format="json")
    body = assert_error(response, 400)
    assert body["errors"] == {}
    assert "code" not in body["detail"]


# Required by the tenant ---------------------------------------------------------------------------


def require(tenant) -> None:
    tenant.require_admin_2fa = True
    tenant.save()


def test_an_administrator_without_a_device_is_sent_to_set_it_up_first(admin, tenant):
    require(tenant)
    client = Client()
    password_step(client, admin)
    assert signed_in(client)
    for path in (reverse("customers:list"), PROFILE, reverse("cloud:accounts"), "/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == SETUP
    htmx = client.get(reverse("customers:list"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == SETUP
    page = client.get(SETUP).content.decode()
    assert "Your organization requires two-factor authentication" in page
    api = client.get(url("customers/"))
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"]

    client.post(SETUP)
    device = TOTPDevice.objects.get(user=admin)
    assert client.post(CONFIRM, {"code": totp_code(device), "next": SETUP}).status_code == 303
    assert client.get(reverse("customers:list")).status_code == 200
    assert client.post(reverse("users:logout")).status_code == 302


def test_the_requirement_revokes_the_tokens_of_administrators_without_it(admin, tenant, customer):
    enrolled = UserFactory(tenant=tenant)
    enrol(enrolled)
    user = CustomerUserFactory(customer=customer, email="cu@acme.test")
    secrets = {who: token_issue(user=who, name="script")[1] for who in (admin, enrolled, user)}

    tenant_update(actor=SysadminFactory(), tenant=tenant, data={"require_admin_2fa": True})

    def works(secret: str) -> bool:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        return api.get(url("customers/")).status_code != 401

    # Had with the password alone: revoked. The others (2FA set up, or not an administrator) stay.
    assert not works(secrets[admin])
    assert works(secrets[enrolled])
    assert works(secrets[user])
    # A new token needs the set-up first.
    response = APIClient().post(url("auth/token/"), {"email": admin.email, "password": PASSWORD}, format="json")
    assert_error(response, 403)


def test_the_requirement_is_for_administrators_only(tenant, customer, client_for):
    require(tenant)
    user = CustomerUserFactory(customer=customer, email="cu@acme.test")
    assert client_for(user).get("/").status_code == 200


def test_sysadmin_sets_the_requirement_in_the_tenant_edit_form(sysadmin_client, tenant, admin):
    edit = reverse("tenants:edit", kwargs={"tenant_id": tenant.pk})
    form = sysadmin_client.get(edit, headers={"HX-Request": "true"}).content.decode()
    assert "Require two-factor authentication for its administrators" in form
    response = sysadmin_client.post(
        edit, {"name": tenant.name, "is_active": "on", "require_admin_2fa": "on"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.require_admin_2fa
    assert "Required for its administrators" in response.content.decode()
    event = AuditEvent.unscoped.filter(action="tenant.update").latest("id")
    assert event.changes == {"require_admin_2fa": [False, True]}


def test_sysadmin_sets_the_requirement_through_the_api(sysadmin, tenant, api_for):
    client = api_for(sysadmin)
    response = client.patch(url(f"tenants/{tenant.pk}/"), {"require_admin_2fa": True}, format="json")
    assert response.status_code == 200
    assert response.json()["require_admin_2fa"] is True
    tenant.refresh_from_db()
    assert tenant.require_admin_2fa
    created = client.post(url("tenants/"), {"name": "Strict MSP", "require_admin_2fa": True}, format="json")
    assert created.status_code == 201
    assert created.json()["require_admin_2fa"] is True


def test_a_tenant_administrator_cannot_set_it(admin, tenant, api_for):
    response = api_for(admin).patch(url(f"tenants/{tenant.pk}/"), {"require_admin_2fa": True}, format="json")
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert not tenant.require_admin_2fa


def test_other_users_of_the_tenant_keep_working_while_one_enrols(admin, tenant, client_for):
    require(tenant)
    enrolled = UserFactory(tenant=tenant, email="enrolled@home.test")
    enrol(enrolled)
    assert client_for(enrolled).get(reverse("customers:list")).status_code == 200
