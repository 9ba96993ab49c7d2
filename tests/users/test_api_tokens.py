"""API tokens that are listed, named and revoked: `GET/POST /api/v1/tokens/`,
`DELETE /api/v1/tokens/{id}/`, and the "API tokens" section of the profile page. Everyone sees
and revokes only their own tokens; anyone else's answers 404."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cloudmsp.audit.models import AuditEvent
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import ApiToken
from tests.api.helpers import assert_error, url
from tests.factories import PASSWORD, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKENS = url("tokens/")
HTMX = {"HTTP_HX_REQUEST": "true"}


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# API ---------------------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_it_authenticates(admin, api_for):
    response = api_for(admin).post(TOKENS, {"name": "billing script"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "created", "last_used", "token"}
    assert body["name"] == "billing script"
    assert body["last_used"] is None
    secret = body["token"]
    assert secret.startswith(body["prefix"])
    token = ApiToken.objects.get(pk=body["id"])
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()

    assert with_token(secret).get(url("customers/")).status_code == 200
    listed = api_for(admin).get(TOKENS).json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert set(row) == {"id", "name", "prefix", "created", "last_used"}  # never the secret again
    assert row["last_used"] is not None
    assert secret not in str(listed)


def test_list_shows_only_the_callers_own_tokens_newest_first(admin, tenant, api_for, sysadmin):
    colleague = UserFactory(tenant=tenant, email="colleague@home.test")
    token_issue(user=colleague, name="colleague's")
    token_issue(user=sysadmin, name="root's")
    first, _ = token_issue(user=admin, name="first")
    second, _ = token_issue(user=admin, name="second")
    body = api_for(admin).get(TOKENS).json()
    assert [r["id"] for r in body["results"]] == [second.pk, first.pk]
    assert [r["name"] for r in api_for(sysadmin).get(TOKENS).json()["results"]] == ["root's"]
    assert api_for(admin).get(TOKENS, {"search": "sec"}).json()["count"] == 1
    assert api_for(admin).get(f"{TOKENS}{first.pk}/").json()["name"] == "first"


def test_name_is_required_and_plain_text(admin, api_for):
    client = api_for(admin)
    assert_error(client.post(TOKENS, {}, format="json"), 400, "name")
    assert_error(client.post(TOKENS, {"name": ""}, format="json"), 400, "name")
    assert_error(client.post(TOKENS, {"name": "x" * 101}, format="json"), 400, "name")
    assert_error(client.post(TOKENS, {"name": 42}, format="json"), 400, "name")
    assert_error(client.post(TOKENS, {"name": "evil\u202ename"}, format="json"), 400, "name")
    assert not ApiToken.objects.exists()


def test_revoke_own_token_stops_it_at_once(admin, api_for):
    token, secret = token_issue(user=admin, name="old script")
    _, kept_secret = token_issue(user=admin, name="keep")
    assert api_for(admin).delete(f"{TOKENS}{token.pk}/").status_code == 204
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert_error(with_token(secret).get(url("customers/")), 401)
    assert with_token(kept_secret).get(url("customers/")).status_code == 200
    event = AuditEvent.unscoped.get(action="api_token.revoke")
    assert (event.tenant_id, event.actor_id, event.object_id) == (admin.tenant_id, admin.pk, str(token.pk))


def test_a_token_can_revoke_itself(admin):
    token, secret = token_issue(user=admin, name="self")
    assert with_token(secret).delete(f"{TOKENS}{token.pk}/").status_code == 204
    assert_error(with_token(secret).get(TOKENS), 401)


@pytest.mark.parametrize("whose", ["colleague", "other tenant", "system administrator", "missing"])
def test_anyone_elses_token_is_404_and_untouched(admin, tenant, api_for, sysadmin, whose):
    owner = {
        "colleague": lambda: UserFactory(tenant=tenant, email="colleague@home.test"),
        "other tenant": lambda: UserFactory(tenant=TenantFactory(name="Other MSP"), email="x@other.test"),
        "system administrator": lambda: sysadmin,
        "missing": lambda: None,
    }[whose]()
    pk = token_issue(user=owner, name="theirs")[0].pk if owner else 10**12
    client = api_for(admin)
    for response in (client.get(f"{TOKENS}{pk}/"), client.delete(f"{TOKENS}{pk}/")):
        body = assert_error(response, 404)
        assert "theirs" not in str(body)
    if owner:
        assert ApiToken.objects.filter(pk=pk).exists()


def test_customer_users_manage_their_own_tokens_too(customer_user, api_for):
    client = api_for(customer_user)
    created = client.post(TOKENS, {"name": "mine"}, format="json")
    assert created.status_code == 201
    assert client.delete(f"{TOKENS}{created.json()['id']}/").status_code == 204


def test_tokens_need_a_signed_in_caller():
    anon = APIClient()
    assert_error(anon.get(TOKENS), 401)
    assert_error(anon.post(TOKENS, {"name": "x"}, format="json"), 401)


def test_obtaining_a_token_with_a_password_names_and_audits_it(admin):
    response = APIClient().post(
        url("auth/token/"), {"email": admin.email, "password": PASSWORD, "name": "ci"}, format="json"
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=admin)
    assert token.name == "ci"
    assert AuditEvent.unscoped.get(action="api_token.create").object_id == str(token.pk)


def test_tokens_are_in_the_schema(admin, api_for):
    schema = api_for(admin).get(url("schema/"), {"format": "json"}).json()
    assert "/api/v1/tokens/" in schema["paths"]
    assert "delete" in schema["paths"]["/api/v1/tokens/{id}/"]


# Profile page ------------------------------------------------------------------------------------


def test_profile_shows_the_api_tokens_section(admin, admin_client):
    token_issue(user=admin, name="nightly export")
    html = admin_client.get(reverse("users:profile")).content.decode()
    assert "API tokens" in html
    assert "nightly export" in html
    assert 'aria-label="Revoke API token nightly export"' in html
    assert "Create API token" in html


def test_create_on_the_profile_shows_the_secret_once_with_a_copy_button(admin, admin_client):
    response = admin_client.post(reverse("users:token_create"), {"name": "backup job"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<article id="api-tokens"')  # the section alone, for htmx
    secret = re.search(r'id="new-api-token" value="([^"]+)"', html).group(1)
    assert 'data-copy="new-api-token"' in html
    assert "shown only this once" in html
    assert with_token(secret).get(url("customers/")).status_code == 200

    again = admin_client.get(reverse("users:profile")).content.decode()
    assert "backup job" in again
    assert secret not in again
    assert ApiToken.objects.get(user=admin).prefix in again


def test_create_on_the_profile_without_htmx_renders_the_whole_page(admin_client):
    response = admin_client.post(reverse("users:token_create"), {"name": "plain form"})
    assert response.status_code == 200
    assert "<h1>Profile</h1>" in response.content.decode()
    assert 'id="new-api-token"' in response.content.decode()


def test_a_bad_name_on_the_profile_is_shown_next_to_the_field(admin_client):
    response = admin_client.post(reverse("users:token_create"), {"name": ""}, **HTMX)
    assert response.status_code == 422
    assert "id_name_error" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_on_the_profile_asks_first_then_revokes(admin, admin_client):
    token, _ = token_issue(user=admin, name="to revoke")
    revoke = reverse("users:token_revoke", kwargs={"token_id": token.pk})
    dialog = admin_client.get(revoke, **HTMX)
    assert dialog.status_code == 200
    html = dialog.content.decode()
    assert "Revoke API token “to revoke”?" in html
    assert "This cannot be undone." in html
    assert ApiToken.objects.filter(pk=token.pk).exists()  # asking changes nothing

    done = admin_client.post(revoke, **HTMX)
    assert done.status_code == 200
    assert "close-modal" in done["HX-Trigger"]
    assert "revoked" in done.content.decode()
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_revoke_without_htmx_redirects_to_the_profile(admin, admin_client):
    token, _ = token_issue(user=admin, name="plain")
    response = admin_client.post(reverse("users:token_revoke", kwargs={"token_id": token.pk}))
    assert response.status_code == 303
    assert response["Location"] == reverse("users:profile")
    assert not ApiToken.objects.exists()


def test_someone_elses_token_on_the_profile_pages_is_404(admin_client, tenant):
    theirs, _ = token_issue(user=UserFactory(tenant=tenant, email="colleague@home.test"), name="theirs")
    revoke = reverse("users:token_revoke", kwargs={"token_id": theirs.pk})
    assert admin_client.get(revoke).status_code == 404
    assert admin_client.post(revoke).status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
