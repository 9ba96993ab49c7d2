"""Sessions: a new key at sign-in, idle and absolute timeouts, and ending them (sign-out, a
disabled or deleted user, a password reset or change) through the index of each user's sessions."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from cloudmsp.users import services, sessions
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import ApiToken, UserSession
from cloudmsp.users.tokens import activation_path
from tests.api.helpers import url
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HOME = reverse("customers:list")


def sign_in(user, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("users:login"), {"username": user.email, "password": password})
    assert response.status_code == 302, response.content[:300]
    return client


def age(client: Client, *, signed_in: float = 0, seen: float = 0) -> None:
    """Pretend the session was signed in `signed_in` seconds ago and last used `seen` ago."""
    session = client.session
    now = time.time()
    session[sessions.SIGNED_IN_AT] = now - signed_in
    session[sessions.SEEN_AT] = now - seen
    session.save()


def alive(key: str) -> bool:
    return Session.objects.filter(session_key=key).exists()


def test_sign_in_registers_the_rotated_session_key(admin):
    client = Client()
    client.get(reverse("users:login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("users:login"), {"username": admin.email, "password": PASSWORD})
    after = client.session.session_key
    assert after != before
    assert not alive(before)
    assert list(UserSession.objects.filter(user=admin).values_list("session_key", flat=True)) == [after]


def test_idle_session_is_signed_out_with_a_message(admin):
    client = sign_in(admin)
    key = client.session.session_key
    age(client, signed_in=3600, seen=31 * 60)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))
    assert not alive(key)
    assert not UserSession.objects.filter(user=admin).exists()
    page = client.get(response["Location"])
    assert "You were signed out after 30 minutes without activity" in page.content.decode()


def test_activity_within_the_idle_timeout_keeps_the_session_and_moves_its_clock(admin):
    client = sign_in(admin)
    age(client, signed_in=3600, seen=29 * 60)
    assert client.get(HOME).status_code == 200
    assert time.time() - client.session[sessions.SEEN_AT] < 5
    assert client.get(HOME).status_code == 200


def test_a_busy_session_is_not_saved_on_every_request(admin):
    client = sign_in(admin)
    seen = client.session[sessions.SEEN_AT]
    for _ in range(3):
        assert client.get(HOME).status_code == 200
    assert client.session[sessions.SEEN_AT] == seen


def test_absolute_timeout_ends_even_a_busy_session(admin):
    client = sign_in(admin)
    key = client.session.session_key
    age(client, signed_in=12 * 3600 + 1, seen=5)
    response = client.get(HOME)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert not alive(key)


def test_absolute_timeout_message_is_shown_on_the_sign_in_page(admin):
    client = sign_in(admin)
    age(client, signed_in=12 * 3600 + 1, seen=5)
    page = client.get(HOME, follow=True)
    assert "You were signed out 12 hours after signing in." in page.content.decode()


def test_timeouts_follow_the_settings(admin, settings):
    settings.SESSION_IDLE_TIMEOUT = 120
    settings.SESSION_ABSOLUTE_TIMEOUT = 600
    client = sign_in(admin)
    age(client, signed_in=100, seen=100)
    assert client.get(HOME).status_code == 200
    age(client, signed_in=100, seen=121)
    assert client.get(HOME).status_code == 302
    client = sign_in(admin)
    age(client, signed_in=601, seen=1)
    assert client.get(HOME).status_code == 302


def test_htmx_requests_of_an_ended_session_reload_the_sign_in_page(admin):
    client = sign_in(admin)
    age(client, signed_in=60, seen=31 * 60)
    response = client.get(HOME, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("users:login")


def test_the_api_used_with_an_ended_session_answers_401(admin):
    client = sign_in(admin)
    assert client.get(url("customers/")).status_code == 200
    age(client, signed_in=60, seen=31 * 60)
    response = client.get(url("customers/"))
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


def test_sign_out_deletes_the_session_on_the_server(admin):
    client = sign_in(admin)
    key = client.session.session_key
    assert client.post(reverse("users:logout")).status_code == 302
    assert not alive(key)
    assert not UserSession.objects.filter(session_key=key).exists()
    # The old cookie, replayed, is worth nothing.
    replay = Client()
    replay.cookies["sessionid"] = key
    assert replay.get(HOME).status_code == 302


def test_disabling_a_user_ends_all_their_sessions_and_tokens(admin, tenant, api_for):
    colleague = UserFactory(tenant=tenant, email="colleague@home.test")
    laptop, phone = sign_in(colleague), sign_in(colleague)
    _, secret = token_issue(user=colleague, name="script")
    mine = sign_in(admin)
    keys = [laptop.session.session_key, phone.session.session_key]

    response = api_for(admin).patch(url(f"users/{colleague.pk}/"), {"is_active": False}, format="json")
    assert response.status_code == 200

    assert not any(alive(k) for k in keys)
    assert laptop.get(HOME).status_code == 302
    assert phone.get(HOME).status_code == 302
    assert not ApiToken.objects.filter(user=colleague).exists()
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert token_client.get(url("customers/")).status_code == 401
    assert alive(mine.session.session_key)  # nobody else is signed out
    assert mine.get(HOME).status_code == 200


def test_deleting_a_user_ends_their_sessions(admin, tenant, admin_client):
    colleague = UserFactory(tenant=tenant, email="colleague@home.test")
    client = sign_in(colleague)
    key = client.session.session_key
    response = admin_client.post(
        reverse("users:admin_delete", kwargs={"user_id": colleague.pk}), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert not alive(key)
    assert not UserSession.objects.filter(session_key=key).exists()


def test_ending_sessions_reads_only_the_users_own(admin, tenant):
    """The cost of ending a user's sessions does not grow with everyone else's sessions."""
    target = UserFactory(tenant=tenant, email="target@home.test")
    sign_in(target)

    def cost() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            sessions.end_sessions(target)
        return [q["sql"] for q in ctx.captured_queries]

    baseline = cost()
    for n in range(30):
        sign_in(UserFactory(tenant=tenant, email=f"other{n}@home.test"))
    sign_in(target)
    crowded = cost()
    assert len(crowded) == len(baseline)
    session_reads = [q for q in crowded if "django_session" in q and q.lstrip().upper().startswith("SELECT")]
    assert all("WHERE" in q.upper() for q in session_reads)
    assert Session.objects.count() == 30  # the others are untouched


def test_changing_ones_password_keeps_this_session_and_ends_the_others(admin):
    here, elsewhere = sign_in(admin), sign_in(admin)
    _, secret = token_issue(user=admin, name="script")
    new = "a-New-passphrase-2024"
    response = here.post(
        reverse("users:password_change"),
        {"pw-old_password": PASSWORD, "pw-password": new, "pw-password_again": new},
    )
    assert response.status_code == 302
    assert here.get(HOME).status_code == 200
    assert elsewhere.get(HOME).status_code == 302
    # This session carries on under a new key, still indexed as the user's.
    assert list(UserSession.objects.filter(user=admin).values_list("session_key", flat=True)) == [
        here.session.session_key
    ]
    # Tokens end too: whoever knew the old password may have made one (issue 10, finding 8).
    assert secret
    assert not ApiToken.objects.filter(user=admin).exists()


def test_a_password_reset_ends_every_session_and_token(admin):
    client = sign_in(admin)
    token_issue(user=admin, name="script")
    admin.refresh_from_db()  # the link is made from the user as stored (last sign-in included)
    uidb64, token = activation_path(admin).rstrip("/").split("/")[-2:]
    services.user_set_password_from_link(uidb64=uidb64, token=token, password="a-Reset-passphrase-9")
    assert client.get(HOME).status_code == 302
    assert not UserSession.objects.filter(user=admin).exists()
    assert not ApiToken.objects.filter(user=admin).exists()


def test_index_rows_older_than_the_absolute_timeout_are_dropped_at_the_next_sign_in(admin):
    sign_in(admin)
    UserSession.objects.filter(user=admin).update(created_at=UserSession.objects.get().created_at.replace(year=2000))
    client = sign_in(admin)
    assert list(UserSession.objects.filter(user=admin).values_list("session_key", flat=True)) == [
        client.session.session_key
    ]


def test_a_session_from_before_the_timeouts_starts_its_clocks_and_is_indexed(admin):
    client = sign_in(admin)
    key = client.session.session_key
    UserSession.objects.all().delete()
    session = client.session
    del session[sessions.SIGNED_IN_AT]
    del session[sessions.SEEN_AT]
    session.save()
    assert client.get(HOME).status_code == 200
    assert time.time() - client.session[sessions.SIGNED_IN_AT] < 5
    assert UserSession.objects.get(session_key=key).user == admin
    services.user_update(actor=UserFactory(tenant=admin.tenant), user=admin, data={"is_active": False})
    assert not alive(key)
