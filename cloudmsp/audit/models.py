from typing import ClassVar

from django.conf import settings
from django.db import models

from cloudmsp.tenancy.models import Tenant, TenantManager


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


class AuditEvent(models.Model):
    """Who did what to which object, with the fields that changed. Written in the same
    transaction as the change; denied attempts are written on their own."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Null for installation-level events (a system administrator acting on tenants).
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the trail survives the actor's deletion.
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    # {"field": [before, after]} for updates; {"objects": [...]} for bulk actions.
    changes = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    message = models.TextField(blank=True)

    unscoped = models.Manager()
    objects: ClassVar[TenantManager["AuditEvent"]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"]),
            models.Index(fields=["tenant", "action", "-created_at"]),
            models.Index(fields=["tenant", "object_type", "object_id"]),
            models.Index(fields=["tenant", "actor_email"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_email} {self.action}"
