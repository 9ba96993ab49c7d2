from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cloudmsp.api.authentication import token_issue
from cloudmsp.api.base import ScopedViewSet, list_parameters
from cloudmsp.api.serializers import ModelSerializer
from cloudmsp.core.errors import NotFound
from cloudmsp.customers.selectors import customer_get
from cloudmsp.tenancy.selectors import tenant_get
from cloudmsp.users import selectors, services
from cloudmsp.users.models import Role, User


class UserSerializer(ModelSerializer[User]):
    activated = serializers.BooleanField(read_only=True)
    tenant = serializers.IntegerField(source="tenant_id", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "role",
            "tenant",
            "customer",
            "is_active",
            "activated",
            "created_at",
        ]
        read_only_fields = ["id", "role", "created_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"email": {"validators": []}}


class UserCreateSerializer(UserSerializer):
    role = serializers.ChoiceField(choices=[Role.TENANT_ADMIN, Role.CUSTOMER_USER])
    tenant = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="System administrators: the tenant."
    )
    customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="For customer users: their customer."
    )

    class Meta(UserSerializer.Meta):
        read_only_fields = ["id", "is_active", "created_at"]


class ActivationLinkSerializer(serializers.Serializer[Any]):
    activation_link = serializers.CharField()


@extend_schema_view(
    list=extend_schema(
        parameters=list_parameters(
            selectors.USER_ORDERINGS,
            OpenApiParameter("customer", OpenApiTypes.INT, description="Only this customer's users."),
            OpenApiParameter("role", OpenApiTypes.STR, enum=Role.values),
        )
    )
)
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Users the caller manages: a system administrator, every tenant's administrators; a tenant
    administrator, its tenant's administrators and customer users."""

    serializer_class = UserSerializer
    read_roles = (Role.SYSADMIN, Role.TENANT_ADMIN)
    write_roles = (Role.SYSADMIN, Role.TENANT_ADMIN)
    orderings = selectors.USER_ORDERINGS
    default_ordering = "email"

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return UserCreateSerializer if self.action == "create" else UserSerializer

    def list_queryset(self) -> Any:
        q = self.request.query_params
        customer = None
        if "customer" in q:
            customer = customer_get(actor=self.actor, customer_id=q["customer"]) if self.actor.is_tenant_admin else None
            if customer is None:
                return User.unscoped.none()
        role = q.get("role", "")
        return selectors.user_list(
            actor=self.actor,
            role=role if role in Role.values else "",
            customer=customer,
            **self.list_params(),
        )

    def fetch(self, pk: str) -> User:
        return selectors.user_get(actor=self.actor, user_id=pk)

    def _resolve(self, data: dict[str, Any]) -> dict[str, Any]:
        """Turn body ids into objects the caller may reach; anything else is refused."""
        errors: dict[str, list[str]] = {}
        tenant = customer = None
        if self.actor.is_sysadmin:
            if data.get("tenant") is None:
                errors["tenant"] = ["Choose the tenant."]
            else:
                try:
                    tenant = tenant_get(actor=self.actor, tenant_id=data["tenant"])
                except NotFound:
                    errors["tenant"] = ["Tenant not found."]
        elif data.get("tenant") not in (None, self.actor.tenant_id):
            errors["tenant"] = ["You can only create users in your own tenant."]
        if data.get("role") == Role.CUSTOMER_USER and not self.actor.is_sysadmin:
            if data.get("customer") is None:
                errors["customer"] = ["Choose the customer."]
            else:
                try:
                    customer = customer_get(actor=self.actor, customer_id=data["customer"])
                except NotFound:
                    errors["customer"] = ["Customer not found."]
        elif data.get("customer") is not None:
            # Refused rather than ignored, so a mistaken (or foreign) id never passes silently.
            errors["customer"] = ["Only customer users belong to a customer."]
        if errors:
            raise serializers.ValidationError(errors)
        return {"tenant": tenant, "customer": customer}

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request: Request) -> Response:
        ser = UserCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        refs = self._resolve(data)
        user, link = services.user_create(
            actor=self.actor,
            email=data["email"],
            role=data["role"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            phone=data.get("phone", ""),
            base_url=request.build_absolute_uri("/"),
            **refs,
        )
        body = dict(UserSerializer(user).data)
        body["activation_link"] = link
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        user = self.fetch(pk)
        ser = UserSerializer(user, data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        services.user_update(actor=self.actor, user=user, data=dict(ser.validated_data))
        return Response(UserSerializer(self.fetch(pk)).data)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        services.user_delete(actor=self.actor, user=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ActivationLinkSerializer)
    @action(detail=True, methods=["post"], url_path="send-activation")
    def send_activation(self, request: Request, pk: str) -> Response:
        link = services.user_send_activation(
            actor=self.actor, user=self.fetch(pk), base_url=request.build_absolute_uri("/")
        )
        return Response({"activation_link": link})


class TokenRequestSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, default="api")


class ObtainTokenView(APIView):
    """Exchange an email and password for an API token (shown once)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        ser = TokenRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=ser.validated_data["email"], password=ser.validated_data["password"]
        )
        if user is None:
            return Response(
                {"detail": "The email or password is not correct, or the account is not active.", "errors": {}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        _, secret = token_issue(user=user, name=ser.validated_data["name"])  # type: ignore[arg-type]
        return Response({"token": secret})
