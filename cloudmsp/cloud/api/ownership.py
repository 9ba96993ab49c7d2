"""`/api/v1/ownership/` and `/api/v1/cloud-accounts/{id}/ownership/` (SPEC 10): who owned which
account when, as JSON pages or, for billing, the whole period as CSV (`?format=csv` or
`Accept: text/csv`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request

from cloudmsp.api.csv import FORMAT_PARAMETER, CsvExportMixin
from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import OwnershipInterval
from cloudmsp.core.csvfiles import Column
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role

MAX_DAYS = 3660


class OwnershipSerializer(serializers.ModelSerializer[OwnershipInterval]):
    account = serializers.IntegerField(source="account_id", read_only=True)
    account_id = serializers.CharField(source="account.account_id", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    actor = serializers.CharField(source="actor_email", read_only=True)

    class Meta:
        model = OwnershipInterval
        fields = [
            "id",
            "account",
            "account_id",
            "account_name",
            "customer",
            "customer_name",
            "valid_from",
            "valid_to",
            "cause",
            "closed_by",
            "actor",
        ]
        read_only_fields = fields


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


CSV_COLUMNS: tuple[Column, ...] = (
    ("account_id", lambda i: i.account.account_id),
    ("account_name", lambda i: i.account.name),
    ("customer", lambda i: i.customer_id or ""),
    ("customer_name", lambda i: i.customer_name),
    ("valid_from", lambda i: _iso(i.valid_from)),
    ("valid_to", lambda i: _iso(i.valid_to)),
    ("cause", lambda i: i.cause),
    ("actor", lambda i: i.actor_email),
)


def _day(raw: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise serializers.ValidationError({name: ["Use a date: YYYY-MM-DD."]}) from None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class OwnershipViewSet(CsvExportMixin, mixins.ListModelMixin, ScopedViewSet):
    """Ownership intervals overlapping a day (`?at=`, today by default) or a period
    (`?from=&to=`, both days included)."""

    serializer_class = OwnershipSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = ()
    csv_columns = CSV_COLUMNS
    csv_filename = "ownership.csv"

    def _period(self) -> tuple[dt.datetime, dt.datetime]:
        q = self.request.query_params
        if q.get("from") or q.get("to"):
            if not (q.get("from") and q.get("to")):
                raise serializers.ValidationError({"from": ["Give both `from` and `to`."]})
            first, last = _day(q["from"], "from"), _day(q["to"], "to")
            if last < first:
                raise serializers.ValidationError({"to": ["`to` is before `from`."]})
            if (last - first).days > MAX_DAYS:
                raise serializers.ValidationError({"to": [f"At most {MAX_DAYS} days at once."]})
        else:
            first = last = _day(q["at"], "at") if q.get("at") else timezone.localdate()
        if last >= dt.date.max - dt.timedelta(days=1) or first <= dt.date.min + dt.timedelta(days=1):
            raise serializers.ValidationError({"at": ["That date is out of range."]})
        return _start_of(first), _start_of(last + dt.timedelta(days=1))

    def list_queryset(self) -> Any:
        start, end = self._period()
        return selectors.ownership_during(actor=self.actor, start=start, end=end)

    @extend_schema(
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATE, description="Who owned what that day (default: today)."),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            FORMAT_PARAMETER,
        ],
        responses={200: OwnershipSerializer(many=True)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().list(request, *args, **kwargs)
