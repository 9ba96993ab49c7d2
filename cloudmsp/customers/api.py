from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.base import list_parameters
from cloudmsp.api.csv import FORMAT_PARAMETER, CsvExportMixin
from cloudmsp.api.serializers import ErrorSerializer, ModelSerializer, VersionField
from cloudmsp.core.concurrency import hold_version
from cloudmsp.customers import selectors, services
from cloudmsp.customers.exports import CUSTOMER_COLUMNS
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role


class CustomerSerializer(ModelSerializer[Customer]):
    account_count = serializers.IntegerField(read_only=True)
    user_count = serializers.IntegerField(read_only=True)
    version = VersionField()

    class Meta:
        model = Customer
        fields = [
            "id",
            *services.CUSTOMER_FIELDS,
            "account_count",
            "user_count",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness per tenant is the service's rule; the serializer checks formats only.
        validators: list[Any] = []


EDIT_CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The `version` sent is not the customer's: someone else changed it since."
)


@extend_schema_view(list=extend_schema(parameters=list_parameters(selectors.CUSTOMER_ORDERINGS, FORMAT_PARAMETER)))
class CustomerViewSet(
    CsvExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedViewSet,
):
    """Customers of the caller's tenant. Customer users may read their own customer only.
    `?format=csv` exports every customer the search selects (customers.exports)."""

    serializer_class = CustomerSerializer
    read_roles = (Role.TENANT_ADMIN, Role.CUSTOMER_USER)
    write_roles = (Role.TENANT_ADMIN,)
    orderings = selectors.CUSTOMER_ORDERINGS
    default_ordering = "company_name"
    csv_columns = CUSTOMER_COLUMNS
    csv_filename = "customers.csv"

    def list_queryset(self) -> Any:
        return selectors.customer_list(actor=self.actor, **self.list_params())

    def fetch(self, pk: str) -> Customer:
        return selectors.customer_get(actor=self.actor, customer_id=pk)

    def create(self, request: Request) -> Response:
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        data.pop("updated_at", None)  # a `version` means nothing to a new customer
        customer = services.customer_create(actor=self.actor, **data)
        return Response(self.get_serializer(self.fetch(str(customer.pk))).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: CustomerSerializer, 409: EDIT_CONFLICT})
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        customer = self.fetch(pk)
        ser = self.get_serializer(customer, data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        hold_version(customer, data.pop("updated_at", None))
        services.customer_update(actor=self.actor, customer=customer, data=data)
        return Response(self.get_serializer(self.fetch(pk)).data)

    @extend_schema(responses={200: CustomerSerializer, 409: EDIT_CONFLICT})
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        services.customer_delete(actor=self.actor, customer=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
