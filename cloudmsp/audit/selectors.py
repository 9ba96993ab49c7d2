from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from cloudmsp.audit.models import AuditEvent
from cloudmsp.tenancy.access import Actor, require_tenant_admin

AUDIT_ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "action": ("action", "-created_at", "-id"),
    "-action": ("-action", "-created_at", "-id"),
    "actor_email": ("actor_email", "-created_at", "-id"),
    "-actor_email": ("-actor_email", "-created_at", "-id"),
}


def audit_event_list(
    *,
    actor: Actor,
    search: str = "",
    ordering: str = "-created_at",
    actor_email: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail of the actor's tenant, newest first, with optional filters."""
    tenant = require_tenant_admin(actor)
    qs = AuditEvent.objects.for_tenant(tenant)
    if actor_email:
        qs = qs.filter(actor_email__iexact=actor_email.strip())
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(action__icontains=search)
            | Q(actor_email__icontains=search)
            | Q(object_repr__icontains=search)
            | Q(message__icontains=search)
        )
    return qs.order_by(*AUDIT_ORDERINGS.get(ordering, AUDIT_ORDERINGS["-created_at"]))
