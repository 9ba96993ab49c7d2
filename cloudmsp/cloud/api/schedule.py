"""`/api/v1/schedule/`: the tenant's scheduler intervals (SPEC 9), tenant administrators'."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.serializers import StrictIntegerField
from cloudmsp.cloud.services.schedule import SCHEDULE_FIELDS, schedule_update
from cloudmsp.tenancy.access import require_tenant_admin
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role


class ScheduleSerializer(serializers.ModelSerializer[Tenant]):
    sync_interval_minutes = StrictIntegerField(
        min_value=1, max_value=30 * 24 * 60, help_text="Every connected MSP account is synced this often."
    )
    validation_interval_minutes = StrictIntegerField(
        min_value=1, max_value=30 * 24 * 60, help_text="Every connected role is validated this often."
    )
    check_retention_days = StrictIntegerField(
        min_value=1, max_value=3650, help_text="Checks older than this are pruned (state changes are kept)."
    )

    class Meta:
        model = Tenant
        fields = list(SCHEDULE_FIELDS)


class ScheduleViewSet(ScopedViewSet):
    """One resource per tenant: GET it, PUT or PATCH it."""

    serializer_class = ScheduleSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = (Role.TENANT_ADMIN,)

    def _tenant(self) -> Tenant:
        return Tenant.objects.get(pk=require_tenant_admin(self.actor).pk)

    def get_object(self) -> Tenant:
        # One object, the caller's tenant (DRF's OPTIONS asks for it too): no id in the URL.
        return self._tenant()

    def retrieve(self, request: Request) -> Response:
        return Response(ScheduleSerializer(self.get_object()).data)

    def _update(self, request: Request, *, partial: bool) -> Response:
        ser = ScheduleSerializer(self.get_object(), data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(ser.validated_data)
        return Response(ScheduleSerializer(schedule_update(actor=self.actor, data=data)).data)

    @extend_schema(request=ScheduleSerializer, responses={200: ScheduleSerializer})
    def update(self, request: Request) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=ScheduleSerializer, responses={200: ScheduleSerializer})
    def partial_update(self, request: Request) -> Response:
        return self._update(request, partial=True)
