"""The one dispatcher of outgoing notifications (SPEC 9), and the webhooks' writes.

`notify_many` runs inside the transaction of the change it announces: the events and their
pending deliveries are written with it (a rolled-back change announces nothing), and the tasks
that send the emails and the webhook requests are enqueued once it commits."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cloudmsp.audit.services import audit_record
from cloudmsp.core.errors import ApplicationError, NotFound
from cloudmsp.notifications import transport
from cloudmsp.notifications.models import (
    EMAIL_KINDS,
    DeliveryState,
    EmailOptOut,
    Event,
    EventType,
    Webhook,
    WebhookDelivery,
)
from cloudmsp.tenancy.access import Actor, in_tenant, require_tenant_admin
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User

SIGNATURE_HEADER = "X-Cloudmsp-Signature"
MAX_WEBHOOKS = 20
# Longest wait between two attempts; the first retries come quickly.
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Notice:
    """Something to announce: an event type, the account it concerns (account_ref) and details."""

    type: str
    account: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)


def account_ref(account: Any) -> dict[str, Any]:
    """An account as events name it."""
    return {"id": account.pk, "account_id": account.account_id, "name": account.name}


# Tasks are registered by notifications.tasks (which imports this module).
_TASKS: dict[str, Any] = {}


def register_task(name: str) -> Callable[[Any], Any]:
    def register(task: Any) -> Any:
        _TASKS[name] = task
        return task

    return register


def notify_many(*, tenant_id: int, notices: Sequence[Notice], webhooks: Sequence[Webhook] | None = None) -> list[Event]:
    """Store one event per notice, a pending delivery per event and webhook that wants it (all
    the tenant's enabled webhooks, or `webhooks`), and after commit enqueue the deliveries and
    one email task for the events administrators are told about. A fixed number of statements
    however many notices there are."""
    if not notices:
        return []
    now = timezone.now()
    events = []
    for notice in notices:
        event_id = uuid.uuid4()
        payload = {
            "id": str(event_id),
            "type": notice.type,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "tenant": tenant_id,
            "account": notice.account,
            "data": notice.data,
        }
        events.append(
            Event(
                tenant_id=tenant_id,
                event_id=event_id,
                type=notice.type,
                account_id=notice.account["id"] if notice.account else None,
                payload=payload,
            )
        )
    Event.unscoped.bulk_create(events, batch_size=500)
    targets = list(Webhook.objects.for_tenant(tenant_id).filter(enabled=True)) if webhooks is None else list(webhooks)
    window = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    deliveries = [
        WebhookDelivery(tenant_id=tenant_id, webhook=w, event=e, due_at=now, window_ends_at=window)
        for e in events
        for w in targets
        if w.wants(e.type)
    ]
    WebhookDelivery.unscoped.bulk_create(deliveries, batch_size=500)
    delivery_ids = [d.pk for d in deliveries]
    email_ids = [e.pk for e in events if e.type in EMAIL_KINDS]
    transaction.on_commit(lambda: _enqueue(delivery_ids, tenant_id, email_ids))
    return events


def _enqueue(delivery_ids: list[int], tenant_id: int, email_ids: list[int]) -> None:
    for pk in delivery_ids:
        _TASKS["deliver"].enqueue(pk)
    if email_ids:
        _TASKS["email"].enqueue(tenant_id, email_ids)


# --- Signing and delivering ----------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Cloudmsp-Signature value: HMAC-SHA256 with the secret over `<timestamp>.<body>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (the README shows it): the signature matches and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def _backoff(attempt: int) -> timedelta:
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS)
    return min(timedelta(seconds=base * 2 ** (attempt - 1)), MAX_BACKOFF)


def delivery_attempt(delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt (the delivery task's body): claim the pending delivery (a task run twice
    sends once), POST the event, log status and duration, and when it failed schedule the next
    attempt while the retry window lasts. None when there was nothing to do."""
    now = timezone.now()
    claimed = WebhookDelivery.unscoped.filter(pk=delivery_id, state=DeliveryState.PENDING, attempted_at=None).update(
        attempted_at=now
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.unscoped.select_related("webhook", "event").get(pk=delivery_id)
    webhook, event = delivery.webhook, delivery.event
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    if not webhook.enabled and event.type != EventType.TEST:
        answer = transport.Response(None, 0, error="The webhook is disabled; nothing was sent.")
    else:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "cloudmsp-webhooks/1",
            "X-Cloudmsp-Event": event.type,
            "X-Cloudmsp-Event-Id": str(event.event_id),
            "X-Cloudmsp-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
        }
        try:
            answer = transport.post(webhook.url, body, headers)
        except Exception as exc:  # whatever happens, the attempt is logged and retried, not left claimed
            answer = transport.Response(None, 0, error=f"Could not deliver: {type(exc).__name__}")
    ok = answer.status is not None and 200 <= answer.status < 300 and not answer.error
    delivery.state = DeliveryState.SUCCEEDED if ok else DeliveryState.FAILED
    delivery.status_code = answer.status
    delivery.duration_ms = answer.duration_ms
    delivery.response_excerpt = answer.excerpt[: transport.EXCERPT]
    delivery.error = answer.error or ("" if ok else f"The receiver answered {answer.status}.")
    retry_at = timezone.now() + _backoff(delivery.attempt)
    delivery.will_retry = (
        not ok and (webhook.enabled or event.type == EventType.TEST) and retry_at <= delivery.window_ends_at
    )
    with transaction.atomic():
        delivery.save(
            update_fields=[
                "state",
                "status_code",
                "duration_ms",
                "response_excerpt",
                "error",
                "will_retry",
                "updated_at",
            ]
        )
        if delivery.will_retry:
            _schedule(delivery, attempt=delivery.attempt + 1, due_at=retry_at, window_ends_at=delivery.window_ends_at)
    return delivery


def _schedule(
    previous: WebhookDelivery, *, attempt: int, due_at: datetime, window_ends_at: datetime
) -> WebhookDelivery:
    nxt = WebhookDelivery.unscoped.create(
        tenant_id=previous.tenant_id,
        webhook_id=previous.webhook_id,
        event_id=previous.event_id,
        attempt=attempt,
        due_at=due_at,
        window_ends_at=window_ends_at,
        resend_of=previous.resend_of if attempt > 1 else previous,
    )
    pk = nxt.pk
    transaction.on_commit(lambda: _TASKS["deliver"].using(run_after=due_at).enqueue(pk))
    return nxt


# A pending delivery untouched this long lost its task (a worker killed mid-request, an enqueue
# lost after its commit): the scheduler hands it to the workers again.
STUCK_AFTER = timedelta(minutes=15)


def deliveries_requeue_stuck(*, now: datetime | None = None, limit: int = 500) -> int:
    """System work (the scheduler, every tenant): re-enqueue pending deliveries that were due, or
    claimed, longer than STUCK_AFTER ago. Their due time moves to now, so each is re-enqueued
    once per STUCK_AFTER at most; the claim in delivery_attempt sends each attempt once."""
    now = now or timezone.now()
    stuck = list(
        WebhookDelivery.unscoped.filter(state=DeliveryState.PENDING, due_at__lt=now - STUCK_AFTER)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not stuck:
        return 0
    WebhookDelivery.unscoped.filter(pk__in=stuck, state=DeliveryState.PENDING).update(
        attempted_at=None, due_at=now, updated_at=now
    )
    transaction.on_commit(lambda: [_TASKS["deliver"].enqueue(pk) for pk in stuck])
    return len(stuck)


def _own(actor: Actor, obj: Webhook | WebhookDelivery) -> Tenant:
    tenant = require_tenant_admin(actor)
    if not in_tenant(obj, tenant):
        raise NotFound("Webhook not found.")
    return tenant


def delivery_resend(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event again to its webhook, as attempt 1 of a new series."""
    _own(actor, delivery)
    if delivery.state == DeliveryState.PENDING:
        raise ApplicationError("This delivery has not been attempted yet.")
    now = timezone.now()
    with transaction.atomic():
        nxt = _schedule(
            delivery, attempt=1, due_at=now, window_ends_at=now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
        )
        audit_record(
            actor=actor, action="webhook.resend", obj=delivery.webhook, changes={"delivery": [delivery.pk, nxt.pk]}
        )
    return nxt


# --- Emails -----------------------------------------------------------------------------------


def _describe(event: Event) -> str:
    account = event.payload.get("account") or {}
    who = " ".join(filter(None, [str(account.get("account_id", "")), str(account.get("name", ""))])) or "—"
    data = event.payload.get("data") or {}
    detail = data.get("message") or data.get("error") or ""
    return f"- {EventType(event.type).label}: {who}" + (f" ({detail})" if detail else "")


def emails_send(*, tenant_id: int, event_ids: Sequence[int]) -> int:
    """One email per active administrator of the tenant listing the events of the kinds they did
    not opt out of. Returns how many were sent."""
    events = list(Event.objects.for_tenant(tenant_id).filter(pk__in=list(event_ids)).order_by("created_at", "id"))
    if not events:
        return 0
    tenant = Tenant.objects.get(pk=tenant_id)
    admins = list(
        User.objects.for_tenant(tenant_id).filter(role=Role.TENANT_ADMIN, is_active=True, activated_at__isnull=False)
    )
    opted: dict[int, set[str]] = {}
    for user_id, kind in EmailOptOut.objects.for_tenant(tenant_id).values_list("user_id", "kind"):
        opted.setdefault(user_id, set()).add(kind)
    base = settings.PORTAL_BASE_URL.rstrip("/")
    messages = []
    for admin in admins:
        wanted = [e for e in events if e.type not in opted.get(admin.pk, set())]
        if not wanted:
            continue
        if len(wanted) == 1:
            subject = f"[cloudmsp] {EventType(wanted[0].type).label}"
            account = wanted[0].payload.get("account")
            if account:
                subject += f": {account.get('account_id')} {account.get('name', '')}".rstrip()
        else:
            subject = f"[cloudmsp] {len(wanted)} changes in your accounts"
        body = (
            f"Hello {admin.full_name or admin.email},\n\n"
            f"In {tenant.name}:\n\n" + "\n".join(_describe(e) for e in wanted) + "\n\n"
            f"Role health: {base}{reverse('cloud:health')}\n"
            f"Choose which of these emails you get: {base}{reverse('notifications:preferences')}\n"
        )
        messages.append((subject[:200], body, settings.DEFAULT_FROM_EMAIL, [admin.email]))
    if messages:
        send_mass_mail(messages)
    return len(messages)


def email_opt_outs(user: Any) -> set[str]:
    return set(EmailOptOut.objects.for_tenant(user.tenant_id).filter(user=user).values_list("kind", flat=True))


def email_preferences_set(*, actor: Actor, wanted: Sequence[str]) -> set[str]:
    """The administrator gets emails of the kinds in `wanted` and none of the others; returns the
    kinds opted out of."""
    tenant = require_tenant_admin(actor)
    kinds = {k.value for k in EMAIL_KINDS}
    unknown = set(wanted) - kinds
    if unknown:
        raise ValidationError({"kinds": [f"Unknown kind: {sorted(unknown)[0][:40]}"]})
    out = kinds - set(wanted)
    with transaction.atomic():
        EmailOptOut.objects.for_tenant(tenant).filter(user_id=actor.pk).exclude(kind__in=out).delete()
        have = set(EmailOptOut.objects.for_tenant(tenant).filter(user_id=actor.pk).values_list("kind", flat=True))
        EmailOptOut.unscoped.bulk_create(
            [EmailOptOut(tenant=tenant, user_id=actor.pk, kind=k) for k in sorted(out - have)]
        )
    return out


# --- Webhooks ---------------------------------------------------------------------------------


def _clean_events(events: object) -> list[str]:
    if events in (None, ""):
        return []
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": ["A list of event types."]})
    unknown = [e for e in events if e not in EventType.values]
    if unknown:
        raise ValidationError({"events": [f"Unknown event type: {unknown[0][:40]}"]})
    return sorted(set(events))


def _clean_url(url: object) -> str:
    try:
        transport.parse_url(url if isinstance(url, str) else "")
    except transport.UrlRefused as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    assert isinstance(url, str)
    return url


def webhook_create(
    *, actor: Actor, url: str, events: object = (), enabled: bool = True, description: str = ""
) -> tuple[Webhook, str]:
    """A new webhook and its secret (the only time the secret is returned)."""
    tenant = require_tenant_admin(actor)
    webhook = Webhook(
        tenant=tenant,
        url=_clean_url(url),
        events=_clean_events(list(events) if isinstance(events, tuple) else events),
        enabled=bool(enabled),
        description=(description or "").strip(),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        created_by_id=actor.pk,
    )
    webhook.full_clean()
    with transaction.atomic():
        if Webhook.objects.for_tenant(tenant).count() >= MAX_WEBHOOKS:
            raise ApplicationError(f"A tenant can have at most {MAX_WEBHOOKS} webhooks.")
        webhook.save()
        audit_record(actor=actor, action="webhook.create", obj=webhook, changes={"url": [None, webhook.url]})
    return webhook, webhook.secret


def webhook_update(*, actor: Actor, webhook: Webhook, **data: Any) -> Webhook:
    _own(actor, webhook)
    changes: dict[str, list[Any]] = {}
    if "url" in data:
        new = _clean_url(data["url"])
        if new != webhook.url:
            changes["url"] = [webhook.url, new]
            webhook.url = new
    if "events" in data:
        new_events = _clean_events(data["events"])
        if new_events != webhook.events:
            changes["events"] = [webhook.events, new_events]
            webhook.events = new_events
    if "enabled" in data and bool(data["enabled"]) != webhook.enabled:
        changes["enabled"] = [webhook.enabled, bool(data["enabled"])]
        webhook.enabled = bool(data["enabled"])
    if "description" in data:
        new_description = (data["description"] or "").strip()
        if new_description != webhook.description:
            changes["description"] = [webhook.description, new_description]
            webhook.description = new_description
    webhook.full_clean()
    with transaction.atomic():
        webhook.save()
        if changes:
            audit_record(actor=actor, action="webhook.update", obj=webhook, changes=changes)
    return webhook


def webhook_delete(*, actor: Actor, webhook: Webhook) -> None:
    _own(actor, webhook)
    with transaction.atomic():
        audit_record(actor=actor, action="webhook.delete", obj=webhook, changes={"url": [webhook.url, None]})
        webhook.delete()


def webhook_send_test(*, actor: Actor, webhook: Webhook) -> WebhookDelivery:
    """A `test` event to this webhook alone (whether it is enabled or not)."""
    tenant = _own(actor, webhook)
    with transaction.atomic():
        target = Webhook(**{f.attname: getattr(webhook, f.attname) for f in Webhook._meta.concrete_fields})
        target.enabled = True  # a test is sent to a disabled webhook too
        events = notify_many(
            tenant_id=tenant.pk,
            notices=[Notice(EventType.TEST, None, {"message": "A test event sent from the portal."})],
            webhooks=[target],
        )
        delivery = WebhookDelivery.objects.for_tenant(tenant).get(event=events[0])
        audit_record(actor=actor, action="webhook.test", obj=webhook)
    return delivery
