"""`/api/v1/cloud-accounts/`: the API face of Account Management. Every rule lives in the cloud
selectors and services; these views parse input, call them and render."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.base import list_parameters
from cloudmsp.api.csv import FORMAT_PARAMETER, CsvExportMixin
from cloudmsp.api.serializers import ErrorSerializer
from cloudmsp.api.throttling import THROTTLED
from cloudmsp.cloud import selectors
from cloudmsp.cloud.api.ownership import OwnershipSerializer
from cloudmsp.cloud.api.serializers import (
    AccountFilterSerializer,
    AssociateSerializer,
    BulkOnboardSerializer,
    BulkValidateSerializer,
    ChangedSerializer,
    CloudAccountCreatedSerializer,
    CloudAccountCreateSerializer,
    CloudAccountSerializer,
    CloudAccountUpdateSerializer,
    ConnectSerializer,
    DisassociateSerializer,
    HealthCheckSerializer,
    JobSerializer,
    OnboardSerializer,
    RemoveRoleSerializer,
    SetupSerializer,
    ValidationResultSerializer,
    job_accepted,
)
from cloudmsp.cloud.exports import ACCOUNT_COLUMNS
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Health, Kind, OnboardingStatus
from cloudmsp.cloud.providers.base import RoleCheck
from cloudmsp.cloud.services import accounts as account_services
from cloudmsp.cloud.services import association, bulk_jobs, onboarding
from cloudmsp.cloud.services import sync as sync_services
from cloudmsp.core.csvfiles import Column
from cloudmsp.customers.selectors import customer_for_field
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input, or the account cannot do this."),
    404: OpenApiResponse(ErrorSerializer, description="No such account within reach."),
}
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="A job of this kind is already running.")}
BULK_CONFLICT = {
    409: OpenApiResponse(
        ErrorSerializer,
        description="Someone else is changing (or has just changed) some of these accounts; nothing "
        "was changed. Reload and try again.",
    )
}


@extend_schema_view(
    list=extend_schema(
        parameters=list_parameters(
            selectors.ACCOUNT_ORDERINGS,
            OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Kind.values),
            OpenApiParameter("parent", OpenApiTypes.INT, description="Members of this MSP account."),
            OpenApiParameter(
                "customer", OpenApiTypes.STR, description="A customer id, or `none` for unassigned accounts."
            ),
            OpenApiParameter("onboarding_status", OpenApiTypes.STR, enum=OnboardingStatus.values),
            OpenApiParameter("aws_state", OpenApiTypes.STR, enum=AwsState.values),
            OpenApiParameter("health", OpenApiTypes.STR, enum=Health.values),
            FORMAT_PARAMETER,
            OpenApiParameter("ou", OpenApiTypes.STR, description="An OU path: the accounts in it and below it."),
        )
    ),
)
class CloudAccountViewSet(CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Cloud accounts of the caller's tenant. Customer users read the accounts of their own
    customer; everything else is for tenant administrators. `?format=csv` exports every account
    the filters select (cloud.exports)."""

    serializer_class = CloudAccountSerializer
    read_roles = (Role.TENANT_ADMIN, Role.CUSTOMER_USER)
    write_roles = (Role.TENANT_ADMIN,)
    orderings = selectors.ACCOUNT_ORDERINGS
    default_ordering = "account_id"
    csv_columns = ACCOUNT_COLUMNS

    def export_columns(self, request: Request) -> Sequence[Column]:
        """A customer user's export leaves out what its JSON leaves out (the role's details)."""
        if getattr(request.user, "is_customer_user", False):
            hidden = set(CloudAccountSerializer.HIDDEN_FROM_CUSTOMER_USERS)
            return [c for c in self.csv_columns if c[0] not in hidden]
        return self.csv_columns

    csv_filename = "cloud-accounts.csv"
    rate_limits = {
        "connect": "validate",
        "validate": "validate",
        "sync": "sync",
        "onboard": "onboard",
        "remove_role": "remove_role",
        "associate": "bulk",
        "disassociate": "bulk",
        "bulk_validate": "bulk",
        "bulk_onboard": "bulk",
    }

    def list_queryset(self) -> Any:
        filters = AccountFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.account_list(actor=self.actor, filters=dict(filters.validated_data), **self.list_params())

    def fetch(self, pk: str) -> CloudAccount:
        return selectors.account_get(actor=self.actor, account_id=pk)

    def _body(self, serializer_class: type[serializers.Serializer[Any]]) -> dict[str, Any]:
        ser = serializer_class(data=self.request.data)
        ser.is_valid(raise_exception=True)
        return dict(ser.validated_data)

    @staticmethod
    def _check_failed(result: RoleCheck) -> serializers.ValidationError:
        return serializers.ValidationError({"role_arn": [f"{result.step} failed: {result.message}"]})

    def _selection(self, data: dict[str, Any]) -> list[Any]:
        """The ids a bulk action acts on: as sent, or every account matching its `filter`."""
        if "filter" not in data:
            return list(data["accounts"])
        match = dict(data["filter"])
        search = match.pop("search", "")
        return list(association.accounts_matching(actor=self.actor, search=search, filters=match))

    @extend_schema(
        request=CloudAccountCreateSerializer,
        responses={201: CloudAccountCreatedSerializer, 400: ERRORS[400]},
        description="Add an MSP (management) or Non-MSP (stand-alone) account. The answer carries the "
        "generated external id and the documents to create the role; then POST its ARN to `connect/`.",
    )
    def create(self, request: Request) -> Response:
        data = self._body(CloudAccountCreateSerializer)
        account = account_services.account_create(actor=self.actor, **data)
        setup = account_services.account_setup_documents(actor=self.actor, account=account)
        body = CloudAccountCreatedSerializer(account, context={"setup": setup}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=CloudAccountUpdateSerializer, responses={200: CloudAccountSerializer, **ERRORS})
    def partial_update(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        data = self._body(CloudAccountUpdateSerializer)
        if "name" in data:
            account_services.account_update(actor=self.actor, account=account, name=data["name"])
        return Response(CloudAccountSerializer(account).data)

    @extend_schema(
        responses={204: None, **ERRORS},
        description="Remove an MSP or Non-MSP account (with its member accounts) from the portal. "
        "Nothing is deleted in AWS. Member accounts go with their MSP account only.",
    )
    def destroy(self, request: Request, pk: str) -> Response:
        account_services.account_delete(actor=self.actor, account=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={200: SetupSerializer, 403: ErrorSerializer, 404: ERRORS[404]},
        description="The external id, trust policy, inline policy and CloudFormation template for the "
        "account's role (tenant administrators).",
    )
    @action(detail=True, methods=["get"], url_path="setup", url_name="setup")
    def account_setup(self, request: Request, pk: str) -> Response:
        # Not named `setup`: that is Django's View.setup(), which every request calls.
        return Response(account_services.account_setup_documents(actor=self.actor, account=self.fetch(pk)))

    @extend_schema(
        responses={200: HealthCheckSerializer(many=True), 404: ERRORS[404]},
        description="The checks of the account's role, newest first (paged): time, outcome, the failing "
        "step and message, what triggered it, and whether it changed the account's health.",
    )
    @action(detail=True, methods=["get"])
    def health(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        page = self.paginate_queryset(selectors.account_health_checks(actor=self.actor, account=account))
        return self.get_paginated_response(HealthCheckSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        responses={200: OwnershipSerializer(many=True), 404: ERRORS[404]},
        description="Who owned the account when, the current owner first (tenant administrators).",
    )
    @action(detail=True, methods=["get"])
    def ownership(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        page = self.paginate_queryset(selectors.account_ownership(actor=self.actor, account=account))
        return self.get_paginated_response(OwnershipSerializer(page, many=True).data)

    @extend_schema(
        request=ConnectSerializer,
        responses={200: CloudAccountSerializer, **ERRORS, **THROTTLED},
        description="Validate the Role ARN of an MSP or Non-MSP account and store it when every check "
        'passes. A failed check answers 400 with `errors.role_arn` = "<step> failed: <message>".',
    )
    @action(detail=True, methods=["post"])
    def connect(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        data = self._body(ConnectSerializer)
        result = account_services.account_connect(actor=self.actor, account=account, role_arn=data["role_arn"])
        if not result.ok:
            raise self._check_failed(result)
        return Response(CloudAccountSerializer(account).data)

    @extend_schema(
        request=None,
        responses={200: ValidationResultSerializer, **ERRORS, **THROTTLED},
        description="Check the stored role again; the outcome is recorded on the account either way.",
    )
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        result = account_services.account_validate(actor=self.actor, account=account)
        body = {"ok": result.ok, "step": result.step, "message": result.message, "account": account}
        return Response(ValidationResultSerializer(body).data)

    @extend_schema(
        request=None,
        responses={202: JobSerializer, **ERRORS, **CONFLICT, **THROTTLED},
        description="Start discovering the member accounts of a connected MSP (management) account. "
        "Follow the job at the `Location` header.",
    )
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str) -> Response:
        job = sync_services.sync_start(actor=self.actor, account=self.fetch(pk))
        return job_accepted(job)

    @extend_schema(
        request=OnboardSerializer,
        responses={
            200: OpenApiResponse(CloudAccountSerializer, description="Manual method: the role is registered."),
            202: OpenApiResponse(JobSerializer, description="Automatic method: the onboarding job."),
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="Already onboarded, or being onboarded."),
            **THROTTLED,
        },
        description="Onboard a member account: `automatic` creates the role through the organization "
        "access role (a job); `manual` validates the ARN of a role created from `setup/`.",
    )
    @action(detail=True, methods=["post"])
    def onboard(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        data = self._body(OnboardSerializer)
        if data["method"] == "automatic":
            job = onboarding.onboard_start(actor=self.actor, account=account, role_name=data["role_name"])
            return job_accepted(job)
        result = onboarding.onboard_manual(actor=self.actor, account=account, role_arn=data["role_arn"])
        if not result.ok:
            raise self._check_failed(result)
        return Response(CloudAccountSerializer(account).data)

    @extend_schema(
        request=None,
        responses={200: RemoveRoleSerializer, **ERRORS, **THROTTLED},
        description="Unlink the account: a role the portal created is deleted in AWS, and the ARN is "
        "cleared. If AWS refuses the deletion, nothing changes.",
    )
    @action(detail=True, methods=["post"], url_path="remove-role")
    def remove_role(self, request: Request, pk: str) -> Response:
        account = self.fetch(pk)
        note = onboarding.remove_role(actor=self.actor, account=account)
        return Response(RemoveRoleSerializer({"note": note, "account": account}).data)

    @extend_schema(
        request=AssociateSerializer,
        responses={200: ChangedSerializer, 400: ERRORS[400], **BULK_CONFLICT, **THROTTLED},
        description="Assign every listed account (`accounts`), or every account matching `filter`, to the "
        "customer; none of them if any id is invalid or out of reach, if more than 100,000 are asked for, or "
        "if another change of these accounts is under way (409).",
    )
    @action(detail=False, methods=["post"])
    def associate(self, request: Request) -> Response:
        data = self._body(AssociateSerializer)
        customer = customer_for_field(actor=self.actor, customer_id=data["customer"])
        ids = self._selection(data)
        changed = association.accounts_associate(actor=self.actor, customer=customer, account_ids=ids)
        return Response({"changed": changed})

    @extend_schema(
        request=DisassociateSerializer,
        responses={200: ChangedSerializer, 400: ERRORS[400], **BULK_CONFLICT, **THROTTLED},
        description="Remove every listed account (`accounts`), or every account matching `filter`, from its "
        "customer, all or nothing (409 if another change of these accounts is under way).",
    )
    @action(detail=False, methods=["post"])
    def disassociate(self, request: Request) -> Response:
        data = self._body(DisassociateSerializer)
        changed = association.accounts_disassociate(actor=self.actor, account_ids=self._selection(data))
        return Response({"changed": changed})

    @extend_schema(
        request=BulkValidateSerializer,
        responses={202: JobSerializer, 400: ERRORS[400], **THROTTLED},
        description="Validate the roles of every listed account (`accounts`), or every account matching "
        "`filter`, as a job: follow it at the `Location` header; its `result.accounts` gives each account's "
        "outcome, and `POST /jobs/{id}/retry/` retries the failed ones.",
    )
    @action(detail=False, methods=["post"], url_path="bulk-validate", url_name="bulk-validate")
    def bulk_validate(self, request: Request) -> Response:
        data = self._body(BulkValidateSerializer)
        return job_accepted(bulk_jobs.bulk_validate_start(actor=self.actor, account_ids=self._selection(data)))

    @extend_schema(
        request=BulkOnboardSerializer,
        responses={202: JobSerializer, 400: ERRORS[400], **THROTTLED},
        description="Onboard every listed member account (`accounts`), or every account matching `filter`, "
        "automatically, as a job. Accounts that cannot be onboarded fail in its `result.accounts` with the reason.",
    )
    @action(detail=False, methods=["post"], url_path="bulk-onboard", url_name="bulk-onboard")
    def bulk_onboard(self, request: Request) -> Response:
        data = self._body(BulkOnboardSerializer)
        job = bulk_jobs.bulk_onboard_start(
            actor=self.actor, account_ids=self._selection(data), role_name=data["role_name"]
        )
        return job_accepted(job)
