from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from cloudmsp.notifications.models import DeliveryState, Webhook, WebhookDelivery
from cloudmsp.tenancy.access import Actor, not_found, parse_id, require_tenant_admin

WEBHOOK_ORDERINGS: dict[str, tuple[str, ...]] = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "url": ("url", "id"),
    "-url": ("-url", "-id"),
}
DELIVERY_ORDERINGS: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "status_code": ("status_code", "id"),
    "-status_code": ("-status_code", "-id"),
    "duration_ms": ("duration_ms", "id"),
    "-duration_ms": ("-duration_ms", "-id"),
}


def webhook_list(*, actor: Actor, search: str = "", ordering: str = "created_at") -> QuerySet[Webhook]:
    tenant = require_tenant_admin(actor)
    qs = Webhook.objects.for_tenant(tenant)
    term = search.strip()
    if term:
        qs = qs.filter(Q(url__icontains=term) | Q(description__icontains=term))
    return qs.order_by(*WEBHOOK_ORDERINGS.get(ordering, WEBHOOK_ORDERINGS["created_at"]))


def webhook_get(*, actor: Actor, webhook_id: object) -> Webhook:
    tenant = require_tenant_admin(actor)
    pk = parse_id(webhook_id)
    webhook = Webhook.objects.for_tenant(tenant).filter(pk=pk).first() if pk else None
    if webhook is None:
        raise not_found("Webhook", webhook_id)
    return webhook


def delivery_list(
    *,
    actor: Actor,
    search: str = "",
    ordering: str = "-created_at",
    webhook: object = None,
    state: str = "",
    event_type: str = "",
) -> QuerySet[WebhookDelivery]:
    """Every attempt to deliver an event, newest first; `search` matches the event id or type."""
    tenant = require_tenant_admin(actor)
    qs = WebhookDelivery.objects.for_tenant(tenant).select_related("webhook", "event")
    if webhook not in (None, ""):
        pk = parse_id(webhook)
        qs = qs.filter(webhook_id=pk) if pk else qs.none()
    if state in DeliveryState.values:
        qs = qs.filter(state=state)
    if event_type:
        qs = qs.filter(event__type=event_type[:32])
    term = search.strip()
    if term:
        try:
            qs = qs.filter(event__event_id=uuid.UUID(term))
        except ValueError:
            qs = qs.filter(Q(event__type__icontains=term) | Q(webhook__url__icontains=term))
    return qs.order_by(*DELIVERY_ORDERINGS.get(ordering, DELIVERY_ORDERINGS["-created_at"]))


def delivery_get(*, actor: Actor, delivery_id: object) -> WebhookDelivery:
    pk = parse_id(delivery_id)
    delivery = delivery_list(actor=actor).filter(pk=pk).first() if pk else None
    if delivery is None:
        raise not_found("Webhook delivery", delivery_id)
    return delivery
