"""`/api/v1/ownership/` and `/api/v1/cloud-accounts/{id}/ownership/` (SPEC 10): who owned which
account when, as JSON pages or, for billing, the whole period as CSV (`?format=csv` or
`Accept: text/csv`)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import OwnershipInterval
from cloudmsp.core.text import csv_cell
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role

CSV_COLUMNS = ("account_id", "account_name", "customer", "customer_name", "valid_from", "valid_to", "cause", "actor")
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


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return b""  # the views stream their CSV themselves; errors are answered in JSON


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(rows: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for i in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                csv_cell(i.account.account_id),
                csv_cell(i.account.name),
                i.customer_id or "",
                csv_cell(i.customer_name),
                i.valid_from.isoformat() if i.valid_from else "",
                i.valid_to.isoformat() if i.valid_to else "",
                i.cause,
                csv_cell(i.actor_email),
            ]
        )


def _day(raw: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise serializers.ValidationError({name: ["Use a date: YYYY-MM-DD."]}) from None


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class OwnershipViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Ownership intervals overlapping a day (`?at=`, today by default) or a period
    (`?from=&to=`, both days included)."""

    serializer_class = OwnershipSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = ()
    renderer_classes = [JSONRenderer, CsvRenderer]

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
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={200: OwnershipSerializer(many=True)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(_csv_rows(self.list_queryset()), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="ownership.csv"'
            return response
        return super().list(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
