"""`/api/v1/assignment-rules/` (SPEC 10): auto-assignment rules, their preview and their apply."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.base import list_parameters
from cloudmsp.api.serializers import ErrorSerializer, ModelSerializer, StrictIntegerField
from cloudmsp.cloud import selectors
from cloudmsp.cloud.api.serializers import JobSerializer, job_accepted
from cloudmsp.cloud.models import AssignmentRule
from cloudmsp.cloud.services import rules
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role

NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such rule within reach.")}
BAD = {400: OpenApiResponse(ErrorSerializer, description="A field is wrong; each error names its field.")}


class AssignmentRuleSerializer(ModelSerializer[AssignmentRule]):
    customer = StrictIntegerField(source="customer_id", help_text="The customer the rule assigns to.")
    customer_name = serializers.CharField(source="customer.company_name", read_only=True)
    management_account = StrictIntegerField(
        source="management_account_id",
        required=False,
        allow_null=True,
        help_text="Only members of this MSP (management) account.",
    )
    priority = StrictIntegerField(min_value=0, max_value=1_000_000, required=False, default=100)

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "priority",
            "customer",
            "customer_name",
            "enabled",
            "override_manual",
            "ou_path_prefix",
            "name_glob",
            "email_domain",
            "tag_key",
            "tag_value",
            "management_account",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "customer_name", "created_at", "updated_at"]
        extra_kwargs = {
            "ou_path_prefix": {"help_text": 'Accounts in this OU or below it, such as "Root/Production".'},
            "name_glob": {"help_text": "Account names matching this pattern: * any characters, ? one."},
            "email_domain": {"help_text": "Accounts whose email address is at this domain."},
            "tag_key": {"help_text": "Accounts with this AWS tag (read from Organizations at each sync)."},
            "tag_value": {"help_text": "... with this value (with tag_key)."},
            "override_manual": {"help_text": "Also move accounts already assigned to another customer."},
        }
        validators: list[Any] = []  # the service checks the fields together (rules.rule_build)


class PreviewAccountSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    account_id = serializers.CharField()
    name = serializers.CharField()
    ou_path = serializers.CharField()
    customer = serializers.IntegerField(allow_null=True, help_text="Its customer now, if any.")
    customer_name = serializers.CharField()


class PreviewSerializer(serializers.Serializer[Any]):
    matched = serializers.IntegerField(help_text="Accounts whose rule this would be (first match wins).")
    would_change = serializers.IntegerField(help_text="Of those, how many applying it would assign or move.")
    sample = PreviewAccountSerializer(many=True, help_text="The first of those that would change.")


def _fields(validated: dict[str, Any]) -> dict[str, Any]:
    """A serializer's validated data as the service's fields (ids by their field names)."""
    data = dict(validated)
    for field in ("customer", "management_account"):
        if f"{field}_id" in data:
            data[field] = data.pop(f"{field}_id")
    return data


@extend_schema_view(list=extend_schema(parameters=list_parameters(selectors.RULE_ORDERINGS)))
class AssignmentRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The tenant's auto-assignment rules, tried by priority (lower first); the first an
    account matches is its rule. Every sync applies the enabled ones to the accounts it adds."""

    serializer_class = AssignmentRuleSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = (Role.TENANT_ADMIN,)
    orderings = selectors.RULE_ORDERINGS
    default_ordering = "priority"
    rate_limits = {"preview": "bulk", "apply": "bulk"}

    def list_queryset(self) -> Any:
        return selectors.rule_list(actor=self.actor, **self.list_params())

    def fetch(self, pk: str) -> AssignmentRule:
        return selectors.rule_get(actor=self.actor, rule_id=pk)

    def _data(self, *, partial: bool) -> dict[str, Any]:
        ser = AssignmentRuleSerializer(data=self.request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        return _fields(ser.validated_data)

    @extend_schema(request=AssignmentRuleSerializer, responses={201: AssignmentRuleSerializer, **BAD})
    def create(self, request: Request) -> Response:
        rule = rules.rule_create(actor=self.actor, data=self._data(partial=False))
        return Response(AssignmentRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssignmentRuleSerializer, responses={200: AssignmentRuleSerializer, **BAD, **NOT_FOUND})
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        rule = self.fetch(pk)
        rule = rules.rule_update(actor=self.actor, rule=rule, data=self._data(partial=partial))
        return Response(AssignmentRuleSerializer(rule).data)

    @extend_schema(request=AssignmentRuleSerializer, responses={200: AssignmentRuleSerializer, **BAD, **NOT_FOUND})
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None, **NOT_FOUND})
    def destroy(self, request: Request, pk: str) -> Response:
        rules.rule_delete(actor=self.actor, rule=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=AssignmentRuleSerializer,
        responses={200: PreviewSerializer, **BAD},
        description="What a rule would do, before it is saved: its fields as for a create; nothing is written.",
    )
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        found = rules.rule_preview(actor=self.actor, data=self._data(partial=False))
        return Response(PreviewSerializer(found).data)

    @extend_schema(
        request=None,
        responses={202: JobSerializer, **NOT_FOUND},
        description="Apply the rule now to every account that is its (all or nothing, audited with "
        "the rule as the cause), as a job: follow it at `/jobs/{id}/`.",
    )
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str) -> Response:
        return job_accepted(rules.rule_apply_start(actor=self.actor, rule=self.fetch(pk)))
