"""What the portal tells a tenant when something changes in its accounts (SPEC 9): events,
the webhooks they go to and every attempt to deliver one, and who opted out of which emails."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models

from cloudmsp.core.text import validate_plain_text
from cloudmsp.tenancy.models import TenantManager, TenantOwnedModel


class EventType(models.TextChoices):
    ROLE_BROKEN = "role.broken", "A role broke"
    ROLE_RECOVERED = "role.recovered", "A role recovered"
    ACCOUNT_SUSPENDED = "account.suspended", "An account was suspended"
    ACCOUNT_CLOSED = "account.closed", "An account was closed"
    ACCOUNT_REMOVED = "account.removed", "An account left its organization"
    ACCOUNT_DISCOVERED = "account.discovered", "A new account was discovered"
    SYNC_FAILED = "sync.failed", "An organization sync failed"
    TEST = "test", "Test event"


#: The kinds an administrator gets emails about (and may opt out of, each on its own).
EMAIL_KINDS = [t for t in EventType if t != EventType.TEST]


class Event(TenantOwnedModel):
    """Something that happened, as sent to webhooks: `payload` is the JSON body, built once."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    account = models.ForeignKey(
        "cloud.CloudAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict)

    objects: ClassVar[TenantManager[Event]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at", "-id"]
        default_manager_name = "unscoped"
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Webhook(TenantOwnedModel):
    url = models.CharField(max_length=2048)
    description = models.CharField(max_length=200, blank=True, validators=[validate_plain_text])
    # Event types sent to it; empty for all.
    events = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # The HMAC key of its signatures: shown once, when the webhook is created. It is kept as it
    # is (a signature needs the key itself), never shown again, and not in any export.
    secret = models.CharField(max_length=100, editable=False)
    created_by = models.ForeignKey("users.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects: ClassVar[TenantManager[Webhook]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["created_at", "id"]
        default_manager_name = "unscoped"
        indexes = [models.Index(fields=["tenant", "created_at", "id"])]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.enabled and (not self.events or event_type in self.events or event_type == EventType.TEST)


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TenantOwnedModel):
    """One attempt to deliver an event to a webhook. A failed attempt schedules the next one
    (exponential backoff, for settings.WEBHOOK_RETRY_HOURS after the event); a re-send starts
    again at attempt 1."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    due_at = models.DateTimeField()
    # No retry after this (settings.WEBHOOK_RETRY_HOURS after the series' first attempt).
    window_ends_at = models.DateTimeField()
    attempted_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    # Whether another attempt follows this failed one.
    will_retry = models.BooleanField(default=False)
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects: ClassVar[TenantManager[WebhookDelivery]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at", "-id"]
        default_manager_name = "unscoped"
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"]),
            models.Index(fields=["tenant", "webhook", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook} (attempt {self.attempt}, {self.state})"


class EmailOptOut(TenantOwnedModel):
    """An administrator who does not want emails of one kind."""

    user = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=EventType.choices)

    objects: ClassVar[TenantManager[EmailOptOut]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        default_manager_name = "unscoped"
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_opt_out_unique")]
        indexes = [models.Index(fields=["tenant", "kind"])]

    def __str__(self) -> str:
        return f"{self.user_id} opted out of {self.kind}"
