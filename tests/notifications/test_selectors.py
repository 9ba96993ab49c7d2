"""The delivery log's filters and search, and what a webhook list shows."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cloudmsp.core.errors import NotFound
from cloudmsp.notifications.models import DeliveryState, Event, WebhookDelivery
from cloudmsp.notifications.selectors import delivery_get, delivery_list, webhook_get, webhook_list
from cloudmsp.notifications.services import webhook_create
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _delivery(webhook, *, state, event_type="test"):
    now = timezone.now()
    event = Event.unscoped.create(tenant_id=webhook.tenant_id, type=event_type, payload={})
    return WebhookDelivery.unscoped.create(
        tenant_id=webhook.tenant_id, webhook=webhook, event=event, state=state, due_at=now, window_ends_at=now
    )


def test_deliveries_filter_by_webhook_state_type_and_event_id(admin):
    one, _ = webhook_create(actor=admin, url="https://one.example.com/h")
    two, _ = webhook_create(actor=admin, url="https://two.example.com/h", description="chat")
    ok = _delivery(one, state=DeliveryState.SUCCEEDED, event_type="role.broken")
    failed = _delivery(two, state=DeliveryState.FAILED)
    assert list(delivery_list(actor=admin)) == [failed, ok]  # newest first
    assert list(delivery_list(actor=admin, webhook=one.pk)) == [ok]
    assert list(delivery_list(actor=admin, webhook="not-an-id")) == []
    assert list(delivery_list(actor=admin, state="failed")) == [failed]
    assert list(delivery_list(actor=admin, event_type="role.broken")) == [ok]
    assert list(delivery_list(actor=admin, search=str(ok.event.event_id))) == [ok]
    assert list(delivery_list(actor=admin, search="two.example")) == [failed]
    assert list(webhook_list(actor=admin, search="chat")) == [two]


def test_another_tenants_webhooks_and_deliveries_are_not_found(admin):
    other = UserFactory(tenant=TenantFactory(name="Other MSP"), email="admin@other.test")
    theirs, _ = webhook_create(actor=other, url="https://theirs.example.com/h")
    delivery = _delivery(theirs, state=DeliveryState.FAILED)
    assert list(delivery_list(actor=admin)) == []
    with pytest.raises(NotFound):
        webhook_get(actor=admin, webhook_id=theirs.pk)
    with pytest.raises(NotFound):
        delivery_get(actor=admin, delivery_id=delivery.pk)
