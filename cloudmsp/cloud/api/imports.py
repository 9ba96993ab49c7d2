"""`/api/v1/imports/assignments/` and `/api/v1/imports/customers/` (SPEC 10): a CSV body
(`Content-Type: text/csv`, UTF-8, at most settings.IMPORT_MAX_BYTES and IMPORT_MAX_ROWS rows),
answered with its diff. `?dry_run=true` (the default) writes nothing; `?dry_run=false` applies
the file, all or nothing: any error answers 400 with the diff and its errors, and nothing is
written. Tenant administrators only; rate-limited as the other bulk changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.csv import CsvParser
from cloudmsp.api.serializers import ErrorSerializer
from cloudmsp.api.throttling import THROTTLED
from cloudmsp.cloud.services.imports import assignments_import
from cloudmsp.core.csvfiles import ImportDiff, ImportRefused
from cloudmsp.customers.services import customers_import
from cloudmsp.tenancy.access import Actor
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role


class ImportLineErrorSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(help_text="The line of the file (1 is the header).")
    column = serializers.CharField(help_text="The column, or empty for the whole line.")
    message = serializers.CharField()


class ImportSamplesSerializer(serializers.Serializer[Any]):
    created = serializers.ListField(child=serializers.DictField())
    changed = serializers.ListField(child=serializers.DictField())
    unchanged = serializers.ListField(child=serializers.DictField())


class ImportDiffSerializer(serializers.Serializer[Any]):
    applied = serializers.BooleanField(help_text="Whether the changes were made (false for a dry run).")
    created = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    samples = ImportSamplesSerializer(help_text="Up to 20 lines of each kind.")
    error_count = serializers.IntegerField()
    errors = ImportLineErrorSerializer(many=True, help_text="The first 200 errors, by line.")  # type: ignore[assignment]  # a field named `errors`


DRY_RUN = OpenApiParameter(
    "dry_run", OpenApiTypes.BOOL, description="`true` (default): answer the diff only; `false`: apply it."
)
ANSWERS = {
    200: ImportDiffSerializer,
    400: OpenApiResponse(ErrorSerializer, description="The file cannot be read, or (applying) has errors."),
    409: OpenApiResponse(ErrorSerializer, description="Someone else is changing some of these rows."),
    413: OpenApiResponse(ErrorSerializer, description="The file is too large."),
    **THROTTLED,
}


class ImportViewSet(ScopedViewSet):
    """CSV imports of the caller's tenant (tenant administrators)."""

    read_roles = ()
    write_roles = (Role.TENANT_ADMIN,)
    parser_classes = [CsvParser]
    rate_limits = {"assignments": "bulk", "customers": "bulk"}

    def _dry_run(self) -> bool:
        raw = self.request.query_params.get("dry_run", "true").lower()
        if raw not in ("true", "false", "1", "0"):
            raise serializers.ValidationError({"dry_run": ["Use `true` or `false`."]})
        return raw in ("true", "1")

    def _run(self, service: Callable[..., ImportDiff]) -> Response:
        dry_run = self._dry_run()
        data = self.request.data or b""  # an empty body parses to an empty QueryDict
        actor: Actor = self.actor
        try:
            diff = service(actor=actor, data=data, dry_run=dry_run)
        except ImportRefused as exc:
            # The API's error format; the lines' errors as "Line N, column: message" (a dry run
            # answers them one by one).
            body = {"detail": exc.message, "errors": {"file": [str(e) for e in exc.diff.errors]}}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(diff.as_dict())

    @extend_schema(
        request={"text/csv": OpenApiTypes.BINARY},
        parameters=[DRY_RUN],
        responses=ANSWERS,
        description="Assign accounts to customers from a CSV file with the columns `account_id` (the "
        "12-digit AWS account id) and `customer` (the company name; empty: no customer).",
    )
    @action(detail=False, methods=["post"])
    def assignments(self, request: Request) -> Response:
        return self._run(assignments_import)

    @extend_schema(
        request={"text/csv": OpenApiTypes.BINARY},
        parameters=[DRY_RUN],
        responses=ANSWERS,
        description="Create and update customers from a CSV file: `company_name` (required; rows are "
        "matched to customers by it, case-insensitively), and any of `first_name`, `last_name`, "
        "`email`, `phone`, `country`, `state`, `city`, `address`, `address2`, `zip_code`, "
        "`description` (a new customer needs the first four). An empty cell leaves a field as it is.",
    )
    @action(detail=False, methods=["post"])
    def customers(self, request: Request) -> Response:
        return self._run(customers_import)
