"""Brute-force lockout (django-axes): an email, and on its own a client address, is locked after
LOGIN_FAILURE_LIMIT failed sign-ins for LOGIN_COOLOFF_TIME, on the sign-in page and on
`POST /api/v1/auth/token/` alike, and it holds when the attempts arrive all at once."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.users import services
from cloudmsp.users.models import ApiToken, User
from cloudmsp.users.tokens import activation_path
from tests.api.helpers import assert_error, url
from tests.factories import PASSWORD, SysadminFactory, TenantFactory, UserFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db

LOGIN = reverse("users:login")
TOKEN = url("auth/token/")
WRONG = "not-the-password-1"
LOCKED_TEXT = "Too many failed sign-in attempts"


def page_login(client: Client, email: str, password: str, **extra: str):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def api_login(client: APIClient, email: str, password: str, **extra: str):
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.LOGIN_FAILURE_LIMIT == settings.AXES_FAILURE_LIMIT == 5
    assert settings.LOGIN_COOLOFF_TIME == 15 * 60
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_page_locks_the_email_after_five_failures_then_refuses_the_right_password(admin):
    client = Client()
    for _ in range(4):
        response = page_login(client, admin.email, WRONG)
        assert response.status_code == 200
        assert "The email or password is not correct" in response.content.decode()
    fifth = page_login(client, admin.email, WRONG)
    assert fifth.status_code == 429
    assert LOCKED_TEXT in fifth.content.decode()
    assert 'role="alert"' in fifth.content.decode()
    assert 899 <= int(fifth["Retry-After"]) <= 900

    right = page_login(client, admin.email, PASSWORD)
    assert right.status_code == 429
    html = right.content.decode()
    assert LOCKED_TEXT in html
    assert "15 minutes" in html
    assert not signed_in(client)


def test_the_email_is_counted_whatever_its_case_and_spaces(admin):
    client = Client()
    for variant in ("ADMIN@home.test", " admin@HOME.test", "Admin@Home.Test ", "admin@home.test", "ADMIN@HOME.TEST"):
        page_login(client, variant, WRONG)
    assert page_login(client, admin.email, PASSWORD).status_code == 429


def test_every_spelling_the_database_matches_is_counted_as_the_email(tenant):
    # "sam@" with LATIN SMALL LETTER LONG S: an email to Django's validator, and the same account
    # to PostgreSQL's case-insensitive match; lower() alone gave it a count of its own.
    user = UserFactory(tenant=tenant, email="sam@home.test")
    for i in range(settings.LOGIN_FAILURE_LIMIT):  # each from an address of its own
        page_login(Client(REMOTE_ADDR=f"198.51.100.{i + 1}"), "\u017fam@home.test", "wrong-password-1")
    response = page_login(Client(REMOTE_ADDR="203.0.113.50"), user.email, PASSWORD)
    assert response.status_code == 429


def test_api_answers_429_json_with_retry_after_and_shares_the_count_with_the_page(admin):
    page = Client()
    for _ in range(3):
        page_login(page, admin.email, WRONG)
    api = APIClient()
    assert_error(api_login(api, admin.email, WRONG), 400)
    locked = api_login(api, admin.email, WRONG)
    body = assert_error(locked, 429)
    assert body["errors"] == {}
    assert LOCKED_TEXT in body["detail"]
    assert 1 <= int(locked["Retry-After"]) <= 900

    assert_error(api_login(api, admin.email, PASSWORD), 429)
    assert not ApiToken.objects.filter(user=admin).exists()
    assert page_login(page, admin.email, PASSWORD).status_code == 429


def test_a_locked_email_is_refused_from_any_address(admin):
    for _ in range(5):
        page_login(Client(), admin.email, WRONG, REMOTE_ADDR="203.0.113.7")
    other = Client()
    assert page_login(other, admin.email, PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 429
    assert not signed_in(other)


def test_an_address_is_locked_after_failures_on_several_emails(admin, tenant):
    for n in range(5):
        page_login(Client(), f"guess{n}@home.test", WRONG, REMOTE_ADDR="203.0.113.7")
    # The right password of a real account, from the locked address: refused.
    same_address = Client()
    assert page_login(same_address, admin.email, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert not signed_in(same_address)
    # From elsewhere the account is fine: only the address is locked.
    elsewhere = Client()
    assert page_login(elsewhere, admin.email, PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 302
    assert signed_in(elsewhere)


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(settings, admin):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        # Whatever the client puts first, the proxy's own entry (the last) is what counts.
        page_login(
            Client(),
            f"guess{n}@home.test",
            WRONG,
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.7",
        )
    blocked = Client()
    response = page_login(blocked, admin.email, PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert response.status_code == 429
    assert not signed_in(blocked)
    other = Client()
    assert (
        page_login(
            other, admin.email, PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9"
        ).status_code
        == 302
    )


def test_the_lock_ends_after_the_cooloff(admin):
    client = Client()
    for _ in range(5):
        page_login(client, admin.email, WRONG)
    assert page_login(client, admin.email, PASSWORD).status_code == 429
    # Fifteen minutes (and a second) later.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(seconds=901))
    assert page_login(client, admin.email, PASSWORD).status_code == 302
    assert signed_in(client)


def test_attempts_during_the_lock_do_not_extend_it(admin):
    client = Client()
    for _ in range(5):
        page_login(client, admin.email, WRONG)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(seconds=600))
    refused = page_login(client, admin.email, WRONG)
    assert refused.status_code == 429
    assert 299 <= int(refused["Retry-After"]) <= 300
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_a_successful_sign_in_clears_earlier_failures(admin):
    client = Client()
    for _ in range(4):
        page_login(client, admin.email, WRONG)
    assert page_login(client, admin.email, PASSWORD).status_code == 302
    again = Client()
    for _ in range(4):
        assert page_login(again, admin.email, WRONG).status_code == 200
    assert page_login(again, admin.email, PASSWORD).status_code == 302


def test_a_new_password_from_a_reset_link_unlocks_the_email(admin):
    for _ in range(5):
        page_login(Client(), admin.email, WRONG, REMOTE_ADDR="203.0.113.7")
    assert page_login(Client(), admin.email, PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 429
    uidb64, token = activation_path(admin).rstrip("/").split("/")[-2:]
    services.user_set_password_from_link(uidb64=uidb64, token=token, password="a-fresh-passphrase-77")
    client = Client()
    assert page_login(client, admin.email, "a-fresh-passphrase-77", REMOTE_ADDR="198.51.100.9").status_code == 302
    assert signed_in(client)


def test_unknown_and_existing_emails_are_answered_alike(admin):
    """The sequence of answers does not tell whether an account exists."""
    seen = {}
    for email, address in ((admin.email, "203.0.113.1"), ("nobody@home.test", "203.0.113.2")):
        client = Client()
        answers = []
        for _ in range(6):
            response = page_login(client, email, WRONG, REMOTE_ADDR=address)
            text = response.content.decode().replace(email, "EMAIL")
            answers.append((response.status_code, LOCKED_TEXT in text, "not correct" in text))
        seen[email] = answers
    assert seen[admin.email] == seen["nobody@home.test"]
    assert [s for s, _, _ in seen[admin.email]] == [200, 200, 200, 200, 429, 429]


def test_failed_and_locked_sign_ins_are_audited_in_the_users_tenant_or_none(admin, tenant):
    other = TenantFactory(name="Other MSP")
    root = SysadminFactory(email="root@install.test")
    client = Client()
    for _ in range(6):
        page_login(client, admin.email, WRONG, REMOTE_ADDR="203.0.113.5")
    events = list(AuditEvent.unscoped.filter(object_repr=admin.email).order_by("id"))
    assert [(e.action, e.outcome) for e in events] == [("auth.login_failed", Outcome.FAILED)] * 5 + [
        ("auth.login_locked", Outcome.DENIED)
    ]
    assert {e.tenant_id for e in events} == {tenant.pk}
    assert all(e.object_type == "user" and e.object_id == str(admin.pk) for e in events)
    assert all("203.0.113.5" in e.message for e in events)
    assert "now locked" in events[4].message
    assert not AuditEvent.unscoped.filter(tenant=other).exists()

    page_login(Client(), "ghost@nowhere.test", WRONG, REMOTE_ADDR="198.51.100.1")
    ghost = AuditEvent.unscoped.get(object_repr="ghost@nowhere.test")
    assert (ghost.action, ghost.tenant_id, ghost.object_id) == ("auth.login_failed", None, "")

    api_login(APIClient(), root.email, WRONG, REMOTE_ADDR="198.51.100.2")
    assert AuditEvent.unscoped.get(object_repr=root.email).tenant_id is None  # a system administrator


def test_no_password_is_stored_with_the_failures(admin):
    secret_guess = "Guess-Only-Known-To-The-Attacker-42"
    page_login(Client(), admin.email, secret_guess)
    api_login(APIClient(), admin.email, secret_guess)
    for attempt in AccessAttempt.objects.all():
        assert secret_guess not in f"{attempt.get_data}{attempt.post_data}"
    for event in AuditEvent.unscoped.all():
        assert secret_guess not in f"{event.message}{event.changes}{event.object_repr}"


# Many attempts at once --------------------------------------------------------------------------


def _slow_password_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each password check takes 50 ms, as a real hash does, so that attempts overlap."""
    real = User.check_password

    def slow(self: User, raw_password: str | None) -> bool:
        time.sleep(0.05)
        return real(self, raw_password)

    monkeypatch.setattr(User, "check_password", slow)


@pytest.mark.parametrize("way", ["page", "api"])
def test_twenty_concurrent_bad_attempts_check_no_more_than_five_passwords(threads_db, monkeypatch, way):
    admin = UserFactory(tenant=TenantFactory(name="Target MSP"), email="target@home.test")
    _slow_password_checks(monkeypatch)

    def attempt() -> tuple[int, bool]:
        if way == "page":
            response = page_login(Client(), admin.email, WRONG)
        else:
            response = api_login(APIClient(), admin.email, WRONG)
        return response.status_code, LOCKED_TEXT in response.content.decode()

    answers = run_together(*[attempt] * 20)
    assert not [a for a in answers if isinstance(a, BaseException)], answers

    refused = 200 if way == "page" else 400
    # Four plain refusals, the fifth failure locks, and the other fifteen never reach a password.
    assert Counter(answers) == {(refused, False): 4, (429, True): 16}
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 5
    assert AuditEvent.unscoped.filter(action="auth.login_failed").count() == 5
    assert AuditEvent.unscoped.filter(action="auth.login_locked").count() == 15

    # The right password, while locked: refused.
    if way == "page":
        client = Client()
        assert page_login(client, admin.email, PASSWORD).status_code == 429
        assert not signed_in(client)
    else:
        assert_error(api_login(APIClient(), admin.email, PASSWORD), 429)
        assert not ApiToken.objects.exists()


def test_any_other_locked_out_request_gets_the_same_answers(rf, admin):
    """AxesMiddleware hands any request axes flagged as locked out to `lockout_response`: pages
    get the message, the API its JSON, both with Retry-After; answers that already say 429 pass."""
    from django.http import HttpResponse

    from cloudmsp.users import lockout

    for _ in range(5):
        page_login(Client(), admin.email, WRONG)
    page = lockout.lockout_response(rf.post("/somewhere/"), HttpResponse("ok"), {"username": admin.email})
    page.render()
    assert page.status_code == 429
    assert LOCKED_TEXT in page.content.decode()
    assert int(page["Retry-After"]) > 0
    api = lockout.lockout_response(rf.post("/api/v1/elsewhere/"), None, {"username": admin.email})
    assert api.status_code == 429
    assert int(api["Retry-After"]) > 0
    body = json.loads(api.content)
    assert set(body) == {"detail", "errors"}
    assert LOCKED_TEXT in body["detail"]
    handled = HttpResponse("already answered", status=429)
    assert lockout.lockout_response(rf.post("/login/"), handled, None) is handled
