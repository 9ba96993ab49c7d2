from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from cloudmsp.api.base import list_parameters
from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.audit.selectors import AUDIT_ORDERINGS, audit_event_list
from cloudmsp.core.errors import NotFound
from cloudmsp.tenancy.access import parse_id
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
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
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        parameters=list_parameters(
            AUDIT_ORDERINGS,
            OpenApiParameter("actor", OpenApiTypes.STR, description="Actor email."),
            OpenApiParameter("action", OpenApiTypes.STR, description="e.g. customer.update"),
            OpenApiParameter("object_type", OpenApiTypes.STR),
            OpenApiParameter("object_id", OpenApiTypes.STR),
            OpenApiParameter("outcome", OpenApiTypes.STR, enum=Outcome.values),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        )
    )
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The audit trail of the caller's tenant (tenant administrators)."""

    serializer_class = AuditEventSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = ()
    orderings = AUDIT_ORDERINGS
    default_ordering = "-created_at"

    def _filters(self) -> dict[str, Any]:
        q = self.request.query_params
        out: dict[str, Any] = {
            "actor_email": q.get("actor", "")[:254],
            "action": q.get("action", "")[:64],
            "object_type": q.get("object_type", "")[:64],
            "object_id": q.get("object_id", "")[:64],
            "outcome": q.get("outcome", "") if q.get("outcome", "") in Outcome.values else "",
        }
        for key in ("since", "until"):
            raw = q.get(key, "")
            if raw:
                try:
                    value = parse_datetime(raw)
                    if value is not None:
                        # A time without an offset is in the portal's time zone. Converting to UTC
                        # here refuses times a database cannot store (year 1 with an offset).
                        value = (timezone.make_aware(value) if timezone.is_naive(value) else value).astimezone(UTC)
                except (ValueError, OverflowError):
                    value = None
                if value is None:
                    raise serializers.ValidationError({key: ["Use an ISO 8601 date and time."]})
                out[key] = value
        return out

    def list_queryset(self) -> Any:
        return audit_event_list(actor=self.actor, **self.list_params(), **self._filters())

    def fetch(self, pk: str) -> AuditEvent:
        n = parse_id(pk)
        event = audit_event_list(actor=self.actor).filter(pk=n).first() if n else None
        if event is None:
            raise NotFound("Audit event not found.")
        return event
