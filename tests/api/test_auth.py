"""`POST /api/v1/auth/token/` and `Authorization: Token <token>`."""

import hashlib

import pytest
from rest_framework.test import APIClient

from cloudmsp.users.models import ApiToken
from tests.api.helpers import assert_error, url
from tests.factories import PASSWORD, CustomerUserFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = url("auth/token/")


def obtain(client: APIClient, email: str, password: str = PASSWORD):
    return client.post(TOKEN_URL, {"email": email, "password": password}, format="json")


def token_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_token_is_returned_for_email_and_password_and_authenticates(anon, admin, customer):
    response = obtain(anon, "admin@home.test")
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    secret = response.json()["token"]
    assert len(secret) >= 32

    listed = token_client(secret).get(url("customers/"))
    assert listed.status_code == 200
    assert [row["company_name"] for row in listed.json()["results"]] == ["Acme"]
    token = ApiToken.objects.get(user=admin)
    assert token.last_used_at is not None


def test_email_is_matched_case_insensitively(anon, admin):
    response = obtain(anon, "  Admin@HOME.test ")
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=admin).count() == 1


def test_only_the_sha256_digest_of_the_token_is_stored(anon, admin):
    secret = obtain(anon, admin.email).json()["token"]
    token = ApiToken.objects.get(user=admin)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert all(secret not in value for value in stored)
    assert len(token.prefix) < len(secret)


def test_each_request_issues_a_new_token_and_both_work(anon, admin):
    first = obtain(anon, admin.email).json()["token"]
    second = obtain(anon, admin.email).json()["token"]
    assert first != second
    assert ApiToken.objects.filter(user=admin).count() == 2
    assert token_client(first).get(url("users/")).status_code == 200
    assert token_client(second).get(url("users/")).status_code == 200


def test_customer_users_and_sysadmins_get_tokens_too(anon, customer_user, sysadmin):
    user_token = obtain(anon, customer_user.email).json()["token"]
    root_token = obtain(anon, sysadmin.email).json()["token"]
    assert token_client(user_token).get(url("customers/")).status_code == 200
    assert token_client(root_token).get(url("tenants/")).status_code == 200


@pytest.mark.parametrize(
    "case",
    ["wrong password", "unknown email", "disabled user", "disabled tenant", "not yet activated"],
)
def test_refused_credentials_issue_no_token(anon, admin, case):
    email, password = admin.email, PASSWORD
    if case == "wrong password":
        password = "not-the-password-1"
    elif case == "unknown email":
        email = "nobody@home.test"
    elif case == "disabled user":
        admin.is_active = False
        admin.save()
    elif case == "disabled tenant":
        admin.tenant.is_active = False
        admin.tenant.save()
    else:
        invited = UserFactory(tenant=admin.tenant, activated_at=None)
        invited.set_unusable_password()
        invited.save()
        email = invited.email
    response = obtain(anon, email, password)
    assert response.status_code in (400, 401)
    body = assert_error(response, response.status_code)
    assert "password" in body["detail"]
    assert not ApiToken.objects.exists()


def test_missing_fields_are_field_errors(anon):
    assert_error(anon.post(TOKEN_URL, {}, format="json"), 400, "email", "password")
    assert_error(anon.post(TOKEN_URL, {"email": "not-an-email", "password": "x"}, format="json"), 400, "email")


def test_token_endpoint_only_accepts_post(anon):
    assert_error(anon.get(TOKEN_URL), 405)


def test_requests_without_credentials_are_401(anon, admin):
    response = anon.get(url("customers/"))
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header",
    ["Token not-a-real-token", "Token", "Token two parts", "token " + "x" * 300],
)
def test_bad_tokens_are_401(admin, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(url("customers/")), 401)


def test_token_stops_working_when_its_user_is_disabled(anon, admin_api, tenant):
    colleague = UserFactory(tenant=tenant, email="colleague@home.test")
    secret = obtain(anon, colleague.email).json()["token"]
    assert token_client(secret).get(url("customers/")).status_code == 200

    assert admin_api.patch(url(f"users/{colleague.pk}/"), {"is_active": False}, format="json").status_code == 200

    assert_error(token_client(secret).get(url("customers/")), 401)
    assert not ApiToken.objects.filter(user=colleague).exists()


def test_token_stops_working_when_its_tenant_is_disabled(anon, sysadmin_api, customer):
    user = CustomerUserFactory(customer=customer)
    secret = obtain(anon, user.email).json()["token"]
    assert token_client(secret).get(url("customers/")).status_code == 200

    response = sysadmin_api.patch(url(f"tenants/{customer.tenant_id}/"), {"is_active": False}, format="json")
    assert response.status_code == 200

    assert_error(token_client(secret).get(url("customers/")), 401)


def test_session_authentication_works_for_the_api(client_for, admin, customer):
    response = client_for(admin).get(url("customers/"))
    assert response.status_code == 200
    assert response.json()["count"] == 1
