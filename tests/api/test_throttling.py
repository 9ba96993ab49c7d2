"""Rate limits of the API: per tenant for the actions that reach AWS or change many accounts,
per email and per address for signing in; 429 with Retry-After in the API's error format; on
the local-memory cache and on Redis."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3
# (scope, method path, body): requests that get a quick answer without reaching AWS (the
# account is stand-alone and has no role), so only the counting is tested.
ACTIONS = [
    ("sync", "cloud-accounts/{id}/sync/", None),
    ("validate", "cloud-accounts/{id}/validate/", None),
    ("validate", "cloud-accounts/{id}/connect/", {"role_arn": "not-an-arn"}),
    ("onboard", "cloud-accounts/{id}/onboard/", {"method": "manual", "role_arn": "not-an-arn"}),
    ("remove_role", "cloud-accounts/{id}/remove-role/", None),
    ("bulk", "cloud-accounts/associate/", {"customer": 10**12, "accounts": [10**12]}),
    ("bulk", "cloud-accounts/disassociate/", {"accounts": [10**12]}),
]


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, f"{LIMIT}/min")
    return settings.RATE_LIMITS


def _post(client, path: str, account, body):
    return client.post(url(path.format(id=account.pk)), body, format="json")


def assert_throttled(response) -> int:
    body = assert_error(response, 429)
    assert body["detail"].startswith("Too many ")
    assert "Try again in" in body["detail"]
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    return seconds


@pytest.mark.parametrize(("scope", "path", "body"), ACTIONS, ids=[a[1].split("/")[-2] for a in ACTIONS])
def test_action_is_limited_per_tenant(limits, api_for, admin, scope, path, body):
    account = CloudAccountFactory(tenant=admin.tenant)
    client = api_for(admin)
    for _ in range(LIMIT):
        assert _post(client, path, account, body).status_code != 429
    assert_throttled(_post(client, path, account, body))

    # A fellow administrator of the same MSP shares its budget...
    colleague = UserFactory(tenant=admin.tenant)
    assert_throttled(_post(api_for(colleague), path, account, body))
    # ...another MSP is not affected.
    other = UserFactory(tenant=TenantFactory())
    other_account = CloudAccountFactory(tenant=other.tenant)
    assert _post(api_for(other), path, other_account, body).status_code != 429


def test_scopes_are_counted_apart(limits, admin_api, admin):
    account = CloudAccountFactory(tenant=admin.tenant)
    for _ in range(LIMIT):
        _post(admin_api, "cloud-accounts/{id}/sync/", account, None)
    assert_throttled(_post(admin_api, "cloud-accounts/{id}/sync/", account, None))
    assert _post(admin_api, "cloud-accounts/{id}/validate/", account, None).status_code == 400


def test_reads_are_not_limited(limits, admin_api, admin):
    account = CloudAccountFactory(tenant=admin.tenant)
    for _ in range(LIMIT * 3):
        assert admin_api.get(url(f"cloud-accounts/{account.pk}/")).status_code == 200


def test_refused_roles_do_not_use_up_the_tenants_budget(limits, api_for, admin, customer_user):
    account = CloudAccountFactory(tenant=admin.tenant)
    for _ in range(LIMIT * 2):
        assert _post(api_for(customer_user), "cloud-accounts/{id}/sync/", account, None).status_code == 403
    assert _post(api_for(admin), "cloud-accounts/{id}/sync/", account, None).status_code == 400


def test_a_limit_can_be_turned_off(settings, admin_api, admin):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sync": None}
    account = CloudAccountFactory(tenant=admin.tenant)
    for _ in range(40):
        assert _post(admin_api, "cloud-accounts/{id}/sync/", account, None).status_code == 400


def test_the_limit_lifts_after_the_window(limits, admin_api, admin, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    account = CloudAccountFactory(tenant=admin.tenant)
    now = [1_000_000.0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda _self: now[0])
    for _ in range(LIMIT):
        _post(admin_api, "cloud-accounts/{id}/sync/", account, None)
    assert assert_throttled(_post(admin_api, "cloud-accounts/{id}/sync/", account, None)) == 60
    now[0] += 45
    assert assert_throttled(_post(admin_api, "cloud-accounts/{id}/sync/", account, None)) == 15
    now[0] += 16
    assert _post(admin_api, "cloud-accounts/{id}/sync/", account, None).status_code == 400


# Signing in -----------------------------------------------------------------------------------


def _token(anon, email: str, ip: str = "127.0.0.1"):
    return anon.post(
        url("auth/token/"), {"email": email, "password": "wrong-password-1"}, format="json", REMOTE_ADDR=ip
    )


def test_token_requests_are_limited_per_email(limits, anon):
    for i in range(LIMIT):
        assert _token(anon, "Someone@Example.test", ip=f"10.0.0.{i}").status_code != 429
    # The same email from yet another address, in another case: still the same budget.
    response = _token(anon, "someone@example.test ", ip="10.0.1.1")
    assert_throttled(response)
    assert "this email" in response.json()["detail"]
    assert _token(anon, "somebody-else@example.test", ip="10.0.1.2").status_code != 429


def test_token_requests_are_limited_per_address(limits, anon):
    for i in range(LIMIT):
        assert _token(anon, f"user{i}@example.test", ip="10.9.9.9").status_code != 429
    response = _token(anon, "user-new@example.test", ip="10.9.9.9")
    assert_throttled(response)
    assert "your address" in response.json()["detail"]
    assert _token(anon, "user-new@example.test", ip="10.9.9.8").status_code != 429


def test_forwarded_for_is_ignored_without_trusted_proxies(limits, anon):
    for i in range(LIMIT):
        anon.post(
            url("auth/token/"),
            {"email": f"u{i}@example.test", "password": "x"},
            format="json",
            REMOTE_ADDR="10.7.7.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    response = anon.post(
        url("auth/token/"),
        {"email": "u9@example.test", "password": "x"},
        format="json",
        REMOTE_ADDR="10.7.7.7",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert_throttled(response)


def test_schema_documents_429_on_limited_operations(admin_api):
    schema = admin_api.get(url("schema/"), HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/cloud-accounts/{id}/sync/",
        "/api/v1/cloud-accounts/{id}/validate/",
        "/api/v1/cloud-accounts/{id}/connect/",
        "/api/v1/cloud-accounts/{id}/onboard/",
        "/api/v1/cloud-accounts/{id}/remove-role/",
        "/api/v1/cloud-accounts/associate/",
        "/api/v1/cloud-accounts/disassociate/",
        "/api/v1/auth/token/",
    ):
        assert "429" in paths[path]["post"]["responses"], path


# Redis ----------------------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return str(exc)
    return ""


@pytest.fixture
def redis_cache():
    """The default cache on Redis (REDIS_URL, else database 15 of a local server), under a key
    prefix of its own so that nothing else in that database is touched. Where Redis is expected
    (CI), an unreachable server fails the test instead of skipping it."""
    problem = _redis_reachable()
    if problem:
        if os.environ.get("CI") or os.environ.get("REDIS_URL"):
            pytest.fail(f"Redis at {REDIS_URL} is not reachable: {problem}")
        pytest.skip(f"no Redis at {REDIS_URL} ({problem}); CI runs this test")
    prefix = f"cloudmsp-test-{uuid.uuid4().hex}"
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=config):
        cache = caches["default"]
        yield cache
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)


def test_limits_hold_on_redis(limits, redis_cache, api_for, admin):
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    account = CloudAccountFactory(tenant=admin.tenant)
    client = api_for(admin)
    for _ in range(LIMIT):
        assert _post(client, "cloud-accounts/{id}/sync/", account, None).status_code == 400
    assert_throttled(_post(client, "cloud-accounts/{id}/sync/", account, None))
    # The counter is in Redis, not in this process: a fresh local cache would not know it.
    keys = [k.decode() for k in redis_cache._cache.get_client().scan_iter(match=f"{redis_cache.key_prefix}:*")]
    assert any(f"tenant-{admin.tenant_id}" in k for k in keys), keys
    other = UserFactory(tenant=TenantFactory())
    assert (
        _post(api_for(other), "cloud-accounts/{id}/sync/", CloudAccountFactory(tenant=other.tenant), None).status_code
        == 400
    )


def test_an_unreachable_cache_lets_requests_through(limits, admin_api, admin, caplog):
    config = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    account = CloudAccountFactory(tenant=admin.tenant)
    with override_settings(CACHES=config):
        for _ in range(LIMIT + 2):
            assert _post(admin_api, "cloud-accounts/{id}/sync/", account, None).status_code == 400
    assert "cache is unreachable" in caplog.text
