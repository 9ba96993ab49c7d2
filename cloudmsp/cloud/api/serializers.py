"""What `/api/v1/cloud-accounts/` and `/api/v1/jobs/` read and answer: parsing only; every rule
lives in the cloud services."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from cloudmsp.api.serializers import StrictCharField, StrictIntegerField
from cloudmsp.cloud.models import AwsState, Category, CloudAccount, Health, HealthCheck, Job, Kind, OnboardingStatus
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.services import onboarding
from cloudmsp.tenancy.access import MAX_ID, parse_id


class CloudAccountSerializer(serializers.ModelSerializer[CloudAccount]):
    parent = serializers.IntegerField(  # type: ignore[assignment]  # a field, not the parent serializer
        source="parent_id", read_only=True, allow_null=True, help_text="Member accounts: their MSP account."
    )
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="customer.company_name", read_only=True, allow_null=True)
    role_name = serializers.CharField(read_only=True)
    # Blank for an account whose joining is not known (not a member, or not synced yet): a plain
    # string, since an enum would not allow it.
    joined_method = serializers.CharField(read_only=True, help_text="`CREATED`, `INVITED`, or empty when not known.")
    aws_status = serializers.CharField(
        source="aws_state", read_only=True, help_text="Deprecated: the same as `aws_state`, its old name."
    )

    class Meta:
        model = CloudAccount
        fields = [
            "id",
            "provider",
            "category",
            "kind",
            "parent",
            "account_id",
            "name",
            "email",
            "aws_state",
            "aws_status",
            "joined_method",
            "joined_at",
            "ou_path",
            "customer",
            "customer_name",
            "role_arn",
            "role_name",
            "external_id",
            "role_created_by_portal",
            "onboarding_status",
            "last_validated_at",
            "last_validation_message",
            "health",
            "health_since",
            "last_synced_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # What a customer user does not need to see of the accounts assigned to its customer: how
    # the MSP reaches them.
    HIDDEN_FROM_CUSTOMER_USERS = (
        "role_arn",
        "role_name",
        "external_id",
        "role_created_by_portal",
        "last_validation_message",
    )

    def to_representation(self, instance: CloudAccount) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        request = self.context.get("request")
        if request is not None and getattr(request.user, "is_customer_user", False):
            for key in self.HIDDEN_FROM_CUSTOMER_USERS:
                data.pop(key, None)
        return data


class SetupSerializer(serializers.Serializer[Any]):
    """What an administrator needs to create the account's role (SPEC 4.1)."""

    portal_account_id = serializers.CharField(
        allow_null=True, help_text="The AWS account the role must trust; null when AWS could not be reached."
    )
    portal_error = serializers.CharField(allow_blank=True, help_text="Why the portal's AWS account is unknown.")
    external_id = serializers.CharField()
    role_name = serializers.CharField(help_text="The role name the template uses.")
    trust_policy = serializers.DictField(allow_null=True)
    access_policy = serializers.DictField(help_text="The least-privilege inline policy of the role.")
    cloudformation_template = serializers.CharField(
        allow_null=True, help_text="A CloudFormation template (YAML) creating the role in this account."
    )
    stackset_template = serializers.CharField(
        allow_null=True,
        help_text="For a management account: a CloudFormation StackSet template (YAML) creating the portal's role "
        "in every member account, each with its own external id (`<this external id>-<account id>`); null otherwise.",
    )


class CloudAccountCreatedSerializer(CloudAccountSerializer):
    setup = serializers.SerializerMethodField()

    class Meta(CloudAccountSerializer.Meta):
        fields = [*CloudAccountSerializer.Meta.fields, "setup"]
        read_only_fields = fields

    @extend_schema_field(SetupSerializer)
    def get_setup(self, account: CloudAccount) -> dict[str, Any]:
        # Read by the view (services.accounts.account_setup_documents), handed over in the context.
        setup: dict[str, Any] = self.context["setup"]
        return setup


class CloudAccountCreateSerializer(serializers.Serializer[Any]):
    category = serializers.ChoiceField(
        choices=Category.choices, help_text="`msp` adds a management (payer) account, `non_msp` a stand-alone one."
    )
    account_id = StrictCharField(max_length=12, help_text="The 12-digit AWS account id.")
    name = StrictCharField(max_length=200)


class CloudAccountUpdateSerializer(serializers.Serializer[Any]):
    name = StrictCharField(max_length=200, required=False, help_text="The only field that can be changed.")


class ConnectSerializer(serializers.Serializer[Any]):
    role_arn = StrictCharField(max_length=2048)


class ValidationResultSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    step = serializers.CharField(allow_blank=True, help_text="The check that failed; blank when all passed.")
    message = serializers.CharField()
    account = CloudAccountSerializer()


class OnboardSerializer(serializers.Serializer[Any]):
    method = serializers.ChoiceField(choices=onboarding.ONBOARD_METHODS)
    role_name = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=f"Automatic method: the role to create (default {provider_for().default_role_name}).",
    )
    role_arn = StrictCharField(
        max_length=2048, required=False, allow_blank=True, default="", help_text="Manual method: the role's ARN."
    )


class RemoveRoleSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(help_text="What happened to the role in AWS.")
    account = CloudAccountSerializer()


@extend_schema_field({"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1})
class AccountIdsField(serializers.ListField):
    """A list of account ids, passed on as sent: which ids are valid is the association
    service's rule, so it alone decides (and answers for the whole list)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.JSONField(allow_null=True), **kwargs)


class ChangedSerializer(serializers.Serializer[Any]):
    changed = serializers.IntegerField(help_text="How many accounts changed (the others already were so).")


class JobSerializer(serializers.ModelSerializer[Job]):
    account = serializers.IntegerField(source="account_id", read_only=True, allow_null=True)
    percent = serializers.IntegerField(read_only=True, allow_null=True, help_text="Null while the total is unknown.")
    finished = serializers.BooleanField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "account",
            "state",
            "done",
            "total",
            "percent",
            "finished",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class AccountFilterSerializer(serializers.Serializer[Any]):
    """The list's filters, checked so a mistyped value is a 400 rather than an empty page."""

    category = serializers.ChoiceField(choices=Category.choices, required=False)
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    parent = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)  # type: ignore[assignment]
    customer = serializers.CharField(required=False)
    onboarding_status = serializers.ChoiceField(choices=OnboardingStatus.choices, required=False)
    aws_state = serializers.ChoiceField(choices=AwsState.choices, required=False)
    aws_status = serializers.ChoiceField(choices=AwsState.choices, required=False, help_text="Deprecated: `aws_state`.")
    health = serializers.ChoiceField(choices=Health.choices, required=False)
    ou = StrictCharField(
        max_length=1000, required=False, help_text="An organizational unit path: accounts in it and below it."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        old = attrs.pop("aws_status", None)
        if old and not attrs.get("aws_state"):
            attrs["aws_state"] = old
        return attrs

    def validate_customer(self, value: str) -> str:
        if value != "none" and parse_id(value) is None:
            raise serializers.ValidationError("Use a customer id, or `none` for accounts without a customer.")
        return value


class HealthCheckSerializer(serializers.ModelSerializer[HealthCheck]):
    state_change = serializers.BooleanField(read_only=True, help_text="Whether this check changed the health.")

    class Meta:
        model = HealthCheck
        fields = ["id", "checked_at", "ok", "step", "message", "role_arn", "trigger", "changed_from", "state_change"]
        read_only_fields = fields

    def to_representation(self, instance: HealthCheck) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        request = self.context.get("request")
        if request is not None and getattr(request.user, "is_customer_user", False):
            # How the MSP reaches the account is the MSP's business (as on the account itself).
            data.pop("role_arn", None)
            data.pop("message", None)
        return data


class AccountMatchSerializer(AccountFilterSerializer):
    """ "All N accounts matching this filter": the list's query parameters, as an object."""

    search = StrictCharField(max_length=200, required=False, allow_blank=True)


class AccountSelectionSerializer(serializers.Serializer[Any]):
    """The accounts a bulk action acts on: `accounts` (ids), or `filter` for every account the
    list shows with those parameters (all its pages, evaluated on the server); one of the two."""

    accounts = AccountIdsField(
        required=False, help_text="Cloud account ids (the portal's `id`, not the AWS account id)."
    )
    filter = AccountMatchSerializer(
        required=False,
        help_text="Instead of `accounts`: every account that `GET /cloud-accounts/` lists with these query "
        'parameters (all pages), e.g. `{"parent": 12, "customer": "none", "search": "prod"}`; `{}` is '
        "every account of the tenant.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("accounts" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"accounts": ["Send either `accounts` (a list of ids) or `filter`."]})
        return attrs


class DisassociateSerializer(AccountSelectionSerializer):
    pass


class AssociateSerializer(AccountSelectionSerializer):
    customer = StrictIntegerField(min_value=1, max_value=MAX_ID)


class BulkValidateSerializer(AccountSelectionSerializer):
    pass


class BulkOnboardSerializer(AccountSelectionSerializer):
    role_name = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=f"The role to create in each account (default {provider_for().default_role_name}).",
    )


def job_accepted(job: Job) -> Response:
    """202 with the job and its address: how every route that starts a job answers."""
    headers = {"Location": reverse("job-detail", kwargs={"pk": job.pk})}
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers=headers)
