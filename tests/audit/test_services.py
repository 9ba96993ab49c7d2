import pytest
from django.db import transaction
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.audit.selectors import audit_event_list
from cloudmsp.audit.services import audit_record, changes_between
from cloudmsp.customers import services as customer_services
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_changes_between_lists_only_changed_fields():
    assert changes_between({"a": 1, "b": "x"}, {"a": 1, "b": "y", "c": None}) == {"b": ["x", "y"]}


def _create_then_fail(admin):
    with transaction.atomic():
        customer_services.customer_create(
            actor=admin, company_name="Gone", first_name="a", last_name="b", email="a@b.example"
        )
        raise RuntimeError("the surrounding transaction fails")


def test_event_rolls_back_with_the_change(admin):
    with pytest.raises(RuntimeError):
        _create_then_fail(admin)
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="customer.create").exists()


def test_list_is_scoped_filtered_and_searchable(admin):
    other_admin = UserFactory()
    audit_record(actor=admin, action="customer.create", object_repr="Mine")
    audit_record(actor=admin, action="customer.delete", object_repr="Also mine", outcome=Outcome.SUCCESS)
    audit_record(actor=other_admin, action="customer.create", object_repr="Theirs")
    events = audit_event_list(actor=admin)
    assert {e.object_repr for e in events} == {"Mine", "Also mine"}
    assert [e.object_repr for e in audit_event_list(actor=admin, action="customer.delete")] == ["Also mine"]
    assert [e.object_repr for e in audit_event_list(actor=admin, search="also")] == ["Also mine"]
    assert list(audit_event_list(actor=admin, search="Theirs")) == []


def test_denied_attempts_are_recorded_without_revealing_the_foreign_row(admin_client, admin):
    foreign = CustomerFactory(company_name="Foreign Secret")
    response = admin_client.get(reverse("customers:detail", kwargs={"customer_id": foreign.pk}))
    assert response.status_code == 404
    assert "Foreign Secret" not in response.content.decode()
    event = AuditEvent.objects.for_tenant(admin.tenant).get(outcome=Outcome.DENIED)
    assert event.actor_id == admin.pk
    assert "Foreign Secret" not in f"{event.object_repr} {event.message}"
    # Nothing was written into the foreign tenant's trail.
    assert not AuditEvent.objects.for_tenant(foreign.tenant).exists()


def test_audit_page_lists_events_with_changes(admin_client, admin):
    customer = customer_services.customer_create(
        actor=admin, company_name="Seen", first_name="a", last_name="b", email="a@b.example"
    )
    customer_services.customer_update(actor=admin, customer=customer, data={"city": "Oslo"})
    html = admin_client.get(reverse("audit:list")).content.decode()
    assert "customer.update" in html
    assert "Oslo" in html
    denied_only = admin_client.get(reverse("audit:list"), {"outcome": "denied"}).content.decode()
    assert "customer.update" not in denied_only
