"""`/api/v1/audit-events/`, and the audit event every change through the API writes."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.audit.services import audit_record
from tests.api.helpers import assert_error, ids, url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVENT_KEYS = {
    "id",
    "created_at",
    "actor",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "outcome",
    "message",
}


def at(event: AuditEvent, when) -> AuditEvent:
    AuditEvent.unscoped.filter(pk=event.pk).update(created_at=when)
    return event


@pytest.fixture
def trail(admin, customer, foreign):
    """Events in the home tenant (and one in the foreign tenant), at known times."""
    now = timezone.now()
    colleague = UserFactory(tenant=admin.tenant, email="colleague@home.test")
    return {
        "old": at(audit_record(actor=admin, action="customer.create", obj=customer), now - timedelta(days=10)),
        "update": at(
            audit_record(actor=colleague, action="customer.update", obj=customer, changes={"city": ["", "Oslo"]}),
            now - timedelta(days=2),
        ),
        "denied": at(
            audit_record(actor=colleague, action="api DELETE /x", outcome=Outcome.DENIED, message="No."),
            now - timedelta(hours=1),
        ),
        "foreign": audit_record(actor=foreign.admin, action="customer.update", obj=foreign.customer),
        "now": now,
    }


def test_lists_only_the_callers_tenant_newest_first(admin_api, trail):
    response = admin_api.get(url("audit-events/"))
    assert response.status_code == 200
    assert ids(response) == [trail["denied"].pk, trail["update"].pk, trail["old"].pk]
    row = response.json()["results"][1]
    assert set(row) == EVENT_KEYS
    assert row == row | {
        "actor_email": "colleague@home.test",
        "action": "customer.update",
        "object_type": "customer",
        "changes": {"city": ["", "Oslo"]},
        "outcome": "success",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "COLLEAGUE@home.test"}, ["denied", "update"]),
        ({"actor": "admin@other.test"}, []),
        ({"action": "customer.update"}, ["update"]),
        ({"object_type": "customer"}, ["update", "old"]),
        ({"object_type": "customer", "object_id": "CUSTOMER"}, ["update", "old"]),
        ({"object_id": "987654"}, []),
        ({"outcome": "denied"}, ["denied"]),
        ({"outcome": "success", "actor": "admin@home.test"}, ["old"]),
        ({"since": "DAYS_AGO_3"}, ["denied", "update"]),
        ({"until": "DAYS_AGO_3"}, ["old"]),
        ({"since": "DAYS_AGO_3", "until": "HOURS_AGO_2"}, ["update"]),
        ({"search": "oslo"}, []),
        ({"search": "api delete"}, ["denied"]),
        ({"ordering": "created_at"}, ["old", "update", "denied"]),
    ],
)
def test_filters(admin_api, customer, trail, params, expected):
    now = trail["now"]
    values = {
        "CUSTOMER": str(customer.pk),
        "DAYS_AGO_3": (now - timedelta(days=3)).isoformat(),
        "HOURS_AGO_2": (now - timedelta(hours=2)).isoformat(),
    }
    params = {k: values.get(v, v) for k, v in params.items()}
    assert ids(admin_api.get(url("audit-events/"), params)) == [trail[name].pk for name in expected]


def test_times_without_offset_are_utc_and_dates_are_midnight(admin_api, trail):
    day = (trail["now"] - timedelta(days=3)).astimezone(UTC)
    naive = day.replace(tzinfo=None).isoformat()
    assert ids(admin_api.get(url("audit-events/"), {"since": naive})) == [trail["denied"].pk, trail["update"].pk]
    assert ids(admin_api.get(url("audit-events/"), {"until": day.date().isoformat()})) == [trail["old"].pk]


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2024-13-01T00:00:00", "2024-02-30", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1"],
)
@pytest.mark.parametrize("key", ["since", "until"])
def test_bad_times_are_400(admin_api, trail, key, value):
    body = assert_error(admin_api.get(url("audit-events/"), {key: value}), 400, key)
    assert body["errors"][key] == ["Use an ISO 8601 date and time."]


def test_unknown_outcome_is_ignored(admin_api, trail):
    assert len(ids(admin_api.get(url("audit-events/"), {"outcome": "maybe"}))) == 3


def test_retrieve_own_event_and_404_for_foreign(admin_api, trail):
    response = admin_api.get(url(f"audit-events/{trail['update'].pk}/"))
    assert response.status_code == 200
    assert response.json()["action"] == "customer.update"
    assert_error(admin_api.get(url(f"audit-events/{trail['foreign'].pk}/")), 404)
    assert_error(admin_api.get(url("audit-events/987654/")), 404)


def test_events_are_read_only(admin_api, trail):
    event = trail["update"]
    assert_error(admin_api.post(url("audit-events/"), {"action": "x"}, format="json"), 405)
    assert_error(admin_api.delete(url(f"audit-events/{event.pk}/")), 405)
    assert_error(admin_api.patch(url(f"audit-events/{event.pk}/"), {"action": "x"}, format="json"), 405)
    assert AuditEvent.unscoped.get(pk=event.pk).action == "customer.update"


@pytest.mark.parametrize("who", ["customer_user", "sysadmin"])
def test_only_tenant_admins_read_the_trail(api_for, request, trail, who):
    client = api_for(request.getfixturevalue(who))
    assert_error(client.get(url("audit-events/")), 403)
    assert_error(client.get(url(f"audit-events/{trail['update'].pk}/")), 403)


# Every change made through the API writes one success event, in the tenant of what changed.
CHANGES = [
    ("admin", "post", "customers/", {"company_name": "New", "first_name": "a", "last_name": "b", "email": "n@x.io"}),
    ("admin", "patch", "customers/{customer}/", {"city": "Oslo"}),
    (
        "admin",
        "put",
        "customers/{customer}/",
        {"company_name": "A2", "first_name": "a", "last_name": "b", "email": "a@b.io"},
    ),
    ("admin", "delete", "customers/{customer}/", None),
    ("admin", "post", "users/", {"email": "n@acme.test", "role": "customer_user", "customer": "{customer}"}),
    ("admin", "post", "users/", {"email": "n@home.test", "role": "tenant_admin"}),
    ("admin", "patch", "users/{customer_user}/", {"first_name": "Changed"}),
    ("admin", "put", "users/{customer_user}/", {"email": "x@acme.test", "first_name": "X", "last_name": "Y"}),
    ("admin", "delete", "users/{customer_user}/", None),
    ("admin", "post", "users/{pending}/send-activation/", None),
    ("sysadmin", "post", "users/", {"email": "n@home.test", "role": "tenant_admin", "tenant": "{tenant}"}),
    ("sysadmin", "patch", "users/{admin}/", {"phone": "123"}),
    ("sysadmin", "post", "users/{pending}/send-activation/", None),
    ("sysadmin", "delete", "users/{admin}/", None),
]


@pytest.mark.parametrize(("who", "method", "path", "body"), CHANGES)
def test_every_change_writes_an_audit_event_in_the_tenant(
    api_for, request, tenant, customer, customer_user, admin, foreign, who, method, path, body
):
    pending = UserFactory(tenant=tenant, email="pending@home.test", activated_at=None)
    refs = {
        "{customer}": customer.pk,
        "{customer_user}": customer_user.pk,
        "{admin}": admin.pk,
        "{tenant}": tenant.pk,
        "{pending}": pending.pk,
    }
    for key, value in refs.items():
        path = path.replace(key, str(value))
    body = {k: refs.get(v, v) for k, v in (body or {}).items()}
    actor = request.getfixturevalue(who)

    response = getattr(api_for(actor), method)(url(path), body, format="json")

    assert response.status_code in (200, 201, 204), response.content
    events = AuditEvent.unscoped.filter(outcome=Outcome.SUCCESS)
    assert events.count() == 1
    event = events.get()
    assert (event.tenant_id, event.actor_id, event.actor_email) == (tenant.pk, actor.pk, actor.email)
    assert event.action.split(".")[0] in ("customer", "user")
    assert not AuditEvent.objects.for_tenant(foreign.tenant).exists()


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("post", "tenants/", {"name": "New MSP"}, "tenant.create"),
        ("patch", "tenants/{tenant}/", {"name": "Renamed"}, "tenant.update"),
        ("delete", "tenants/{tenant}/", None, "tenant.delete"),
    ],
)
def test_tenant_changes_write_an_installation_level_event(sysadmin_api, sysadmin, tenant, method, path, body, action):
    response = getattr(sysadmin_api, method)(url(path.replace("{tenant}", str(tenant.pk))), body, format="json")
    assert response.status_code in (200, 201, 204)
    event = AuditEvent.unscoped.get()
    assert (event.action, event.tenant_id, event.actor_id) == (action, None, sysadmin.pk)


def test_refused_changes_write_a_denied_event_and_no_success(admin_api, admin, foreign):
    assert_error(admin_api.delete(url(f"customers/{foreign.customer.pk}/")), 404)
    event = AuditEvent.unscoped.get()
    assert (event.tenant_id, event.outcome, event.actor_id) == (admin.tenant_id, Outcome.DENIED, admin.pk)
    # The denied event names the id that was asked for, not the foreign row.
    assert "Foreign Co" not in f"{event.object_repr} {event.message}"
