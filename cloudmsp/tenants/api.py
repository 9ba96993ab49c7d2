from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.base import list_parameters
from cloudmsp.api.serializers import ErrorSerializer, ModelSerializer, VersionField
from cloudmsp.core.concurrency import hold_version
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.tenants import selectors, services


class TenantSerializer(ModelSerializer[Tenant]):
    user_count = serializers.IntegerField(read_only=True)
    customer_count = serializers.IntegerField(read_only=True)
    account_count = serializers.IntegerField(read_only=True)
    version = VersionField()

    class Meta:
        model = Tenant
        fields = [
            "id",
            "name",
            "is_active",
            "require_admin_2fa",
            "user_count",
            "customer_count",
            "account_count",
            "created_at",
            "version",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs: dict[str, Any] = {
            "require_admin_2fa": {"help_text": "Its administrators must sign in with two-factor authentication."}
        }
        validators: list[Any] = []


EDIT_CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The `version` sent is not the tenant's: someone else changed it since."
)


@extend_schema_view(list=extend_schema(parameters=list_parameters(selectors.TENANT_ORDERINGS)))
class TenantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Tenants (MSPs): names and counts, for system administrators only."""

    serializer_class = TenantSerializer
    read_roles = (Role.SYSADMIN,)
    write_roles = (Role.SYSADMIN,)
    orderings = selectors.TENANT_ORDERINGS
    default_ordering = "name"

    def list_queryset(self) -> Any:
        return selectors.tenant_list(actor=self.actor, **self.list_params())

    def fetch(self, pk: str) -> Tenant:
        return selectors.tenant_get_listed(actor=self.actor, tenant_id=pk)

    def create(self, request: Request) -> Response:
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        tenant = services.tenant_create(actor=self.actor, name=ser.validated_data["name"])
        flags = {k: ser.validated_data[k] for k in ("is_active", "require_admin_2fa") if k in ser.validated_data}
        if flags:
            services.tenant_update(actor=self.actor, tenant=tenant, data=flags)
        return Response(self.get_serializer(self.fetch(str(tenant.pk))).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: TenantSerializer, 409: EDIT_CONFLICT})
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        tenant = self.fetch(pk)
        ser = self.get_serializer(tenant, data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        hold_version(tenant, data.pop("updated_at", None))
        services.tenant_update(actor=self.actor, tenant=tenant, data=data)
        return Response(self.get_serializer(self.fetch(pk)).data)

    @extend_schema(responses={200: TenantSerializer, 409: EDIT_CONFLICT})
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        services.tenant_delete(actor=self.actor, tenant=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
