"""cloudmsp.audit.selectors: the audit trail a tenant administrator reads."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.audit.selectors import audit_event_list
from cloudmsp.core.errors import PermissionDenied
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _event(*, tenant, created_at=None, **fields) -> AuditEvent:
    """An event of `tenant`, written as it is stored (optionally dated `created_at`)."""
    event = AuditEvent.unscoped.create(tenant=tenant, **{"action": "customer.create", **fields})
    if created_at is not None:
        AuditEvent.unscoped.filter(pk=event.pk).update(created_at=created_at)
        event.refresh_from_db()
    return event


def _reprs(qs) -> list[str]:
    return [e.object_repr for e in qs]


def test_only_a_tenant_administrator_reads_the_trail(sysadmin, customer_user):
    for actor in (sysadmin, customer_user, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            audit_event_list(actor=actor)


def test_only_the_actors_tenant_is_listed(admin, tenant):
    _event(tenant=tenant, object_repr="mine")
    _event(tenant=UserFactory().tenant, object_repr="another tenant's")
    _event(tenant=None, object_repr="installation-level")
    assert _reprs(audit_event_list(actor=admin)) == ["mine"]


def test_default_order_is_newest_first_with_the_id_breaking_ties(admin, tenant):
    now = timezone.now()
    old = _event(tenant=tenant, object_repr="old", created_at=now - timedelta(days=2))
    tie_a = _event(tenant=tenant, object_repr="tie a", created_at=now)
    tie_b = _event(tenant=tenant, object_repr="tie b", created_at=now)
    assert list(audit_event_list(actor=admin)) == [tie_b, tie_a, old]
    assert list(audit_event_list(actor=admin, ordering="created_at")) == [old, tie_a, tie_b]
    # An ordering nobody offers falls back to the default.
    assert list(audit_event_list(actor=admin, ordering="message")) == [tie_b, tie_a, old]


def test_order_by_action_and_by_actor_email(admin, tenant):
    now = timezone.now()
    b_old = _event(tenant=tenant, action="b.act", actor_email="z@x.test", created_at=now - timedelta(hours=1))
    b_new = _event(tenant=tenant, action="b.act", actor_email="a@x.test", created_at=now)
    a = _event(tenant=tenant, action="a.act", actor_email="m@x.test", created_at=now - timedelta(hours=2))
    # Within one action, newest first.
    assert list(audit_event_list(actor=admin, ordering="action")) == [a, b_new, b_old]
    assert list(audit_event_list(actor=admin, ordering="-action")) == [b_new, b_old, a]
    assert list(audit_event_list(actor=admin, ordering="actor_email")) == [b_new, a, b_old]
    assert list(audit_event_list(actor=admin, ordering="-actor_email")) == [b_old, a, b_new]


def test_filter_by_actor_email_ignores_case_and_surrounding_space(admin, tenant):
    _event(tenant=tenant, actor_email="boss@home.test", object_repr="by boss")
    _event(tenant=tenant, actor_email="boss@home.test.other", object_repr="by someone else")
    assert _reprs(audit_event_list(actor=admin, actor_email="  BOSS@Home.test ")) == ["by boss"]


def test_filters_by_action_object_and_outcome(admin, tenant):
    _event(tenant=tenant, action="user.update", object_type="user", object_id="7", object_repr="user 7")
    _event(tenant=tenant, action="user.update", object_type="user", object_id="8", object_repr="user 8")
    _event(tenant=tenant, action="customer.update", object_type="customer", object_id="7", object_repr="customer 7")
    _event(tenant=tenant, action="customer.view", outcome=Outcome.DENIED, object_repr="refused")
    assert set(_reprs(audit_event_list(actor=admin, action="user.update"))) == {"user 7", "user 8"}
    assert set(_reprs(audit_event_list(actor=admin, object_type="customer"))) == {"customer 7"}
    assert set(_reprs(audit_event_list(actor=admin, object_id="7"))) == {"user 7", "customer 7"}
    assert _reprs(audit_event_list(actor=admin, object_type="user", object_id="7")) == ["user 7"]
    assert _reprs(audit_event_list(actor=admin, outcome=Outcome.DENIED)) == ["refused"]
    assert len(audit_event_list(actor=admin, outcome=Outcome.SUCCESS)) == 3
    # The action filter is exact, not a search.
    assert list(audit_event_list(actor=admin, action="user")) == []


def test_since_is_inclusive_and_until_exclusive(admin, tenant):
    start = timezone.now().replace(microsecond=0) - timedelta(days=10)
    for day in range(4):
        _event(tenant=tenant, object_repr=f"day {day}", created_at=start + timedelta(days=day))
    since, until = start + timedelta(days=1), start + timedelta(days=3)
    assert _reprs(audit_event_list(actor=admin, since=since)) == ["day 3", "day 2", "day 1"]
    assert _reprs(audit_event_list(actor=admin, until=until)) == ["day 2", "day 1", "day 0"]
    assert _reprs(audit_event_list(actor=admin, since=since, until=until)) == ["day 2", "day 1"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("CUSTOMER.DEL", {"by action"}),
        ("auditor@", {"by actor"}),
        ("initech", {"initech ltd"}),
        ("quota", {"by message"}),
        ("  quota  ", {"by message"}),
        ("nothing-matches", set()),
    ],
)
def test_search_covers_action_actor_object_and_message(admin, tenant, search, expected):
    _event(tenant=tenant, action="customer.delete", object_repr="by action")
    _event(tenant=tenant, actor_email="auditor@home.test", object_repr="by actor")
    _event(tenant=tenant, object_repr="Initech Ltd")
    _event(tenant=tenant, message="Over the Quota", object_repr="by message")
    assert {r.lower() for r in _reprs(audit_event_list(actor=admin, search=search))} == expected


def test_search_never_reaches_another_tenant(admin, tenant):
    _event(tenant=UserFactory().tenant, object_repr="Foreign Secret")
    assert list(audit_event_list(actor=admin, search="Foreign Secret")) == []


def test_the_list_is_one_query(admin, tenant, django_assert_num_queries):
    for n in range(5):
        _event(tenant=tenant, object_repr=f"event {n}")
    with django_assert_num_queries(1):
        events = list(audit_event_list(actor=admin, search="event", outcome=Outcome.SUCCESS))
    assert len(events) == 5


# audit_rows: names instead of ids ------------------------------------------------------------


def test_audit_rows_name_objects_and_the_ids_a_change_holds_in_a_fixed_number_of_queries(
    admin, django_assert_num_queries
):
    from cloudmsp.audit.selectors import ChangeLine, audit_rows
    from tests.factories import CloudAccountFactory, CustomerFactory

    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")
    gone = CustomerFactory(tenant=admin.tenant, company_name="Gone Ltd")
    gone_id = gone.pk
    gone.delete()
    foreign = CustomerFactory(company_name="Other Tenant's Secret")
    accounts = [CloudAccountFactory(tenant=admin.tenant, name=f"acct-{i}") for i in range(5)]
    for a in accounts:
        _event(
            tenant=admin.tenant,
            action="cloud_account.link",
            object_type="cloudaccount",
            object_id=str(a.pk),
            object_repr=str(a),
            changes={"customer": [None, acme.pk], "health": ["unknown", "healthy"]},
        )
    _event(
        tenant=admin.tenant,
        object_type="cloudaccount",
        object_id="13",
        object_repr="111122223333 old",
        changes={"customer": [gone_id, foreign.pk], "parent": ["111111111111", "222222222222"], "job": [None, 999]},
    )
    _event(
        tenant=admin.tenant, object_type="customer", object_repr="Acme Corporation", changes={"city": [None, "Oslo"]}
    )
    events = list(AuditEvent.objects.for_tenant(admin.tenant).order_by("id"))

    # One query for the customers, one for the jobs: not one per event.
    with django_assert_num_queries(2):
        rows = audit_rows(events, tenant_id=admin.tenant_id)

    assert [r.object_label for r in rows] == ["Cloud account"] * 6 + ["Customer"]
    # (jsonb keeps keys in its own order: compared as sets)
    assert set(rows[0].changes) == {
        ChangeLine("Customer", "—", "Acme Corporation"),
        ChangeLine("Health", "Never checked", "Healthy"),
    }
    assert set(rows[5].changes) == {
        ChangeLine("Customer", f"#{gone_id} (deleted)", f"#{foreign.pk} (deleted)"),  # another tenant's is not named
        ChangeLine("Parent", "111111111111", "222222222222"),  # account ids, not row ids: shown as they are
        ChangeLine("Job", "—", "#999 (deleted)"),
    }
    assert rows[6].changes == [ChangeLine("City", "—", "Oslo")]


def test_audit_rows_of_an_unknown_type_and_odd_changes_still_read(admin, django_assert_num_queries):
    from cloudmsp.audit.selectors import ChangeLine, audit_rows

    event = _event(
        tenant=admin.tenant, object_type="bulk_thing", changes={"objects": ["a", "b", "c"], "done": [False, True]}
    )
    with django_assert_num_queries(0):
        (row,) = audit_rows([event], tenant_id=admin.tenant_id)
    assert row.object_label == "Bulk thing"
    assert set(row.changes) == {ChangeLine("Objects", "—", '["a", "b", "c"]'), ChangeLine("Done", "No", "Yes")}


def test_audit_rows_label_fields_with_their_acronyms(admin):
    from cloudmsp.audit.selectors import audit_rows

    event = _event(
        tenant=admin.tenant, object_type="cloudaccount", changes={"role_arn": [None, "arn:x"], "ou_path": ["a", "b"]}
    )
    (row,) = audit_rows([event], tenant_id=admin.tenant_id)
    assert {c.label for c in row.changes} == {"Role ARN", "OU path"}
