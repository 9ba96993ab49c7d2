"""Task wrappers over the dispatcher's sending, run by the task worker (django-tasks-db), each in
the tenant of what it sends (row-level security)."""

from __future__ import annotations

from django.tasks import task

from cloudmsp.notifications.models import WebhookDelivery
from cloudmsp.notifications.services import delivery_attempt, emails_send, register_task
from cloudmsp.tenancy import rls


@register_task("deliver")
@task
def deliver_webhook(delivery_id: int) -> str:
    with rls.system_scope():  # which tenant a delivery belongs to is the worker's own business
        tenant_id = WebhookDelivery.unscoped.filter(pk=delivery_id).values_list("tenant_id", flat=True).first()
    if tenant_id is None:
        return "gone"
    with rls.tenant_scope(tenant_id):
        delivery = delivery_attempt(delivery_id)
    return "skipped" if delivery is None else delivery.state


@register_task("email")
@task
def send_event_emails(tenant_id: int, event_ids: list[int]) -> int:
    with rls.tenant_scope(tenant_id):
        return emails_send(tenant_id=tenant_id, event_ids=event_ids)
