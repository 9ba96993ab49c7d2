from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cloudmsp.api.base import list_parameters
from cloudmsp.api.serializers import (
    ErrorSerializer,
    ModelSerializer,
    StrictCharField,
    StrictIntegerField,
    VersionField,
)
from cloudmsp.api.throttling import THROTTLED, LoginIPThrottle, RateLimitMixin, TokenLoginEmailThrottle
from cloudmsp.core.concurrency import hold_version
from cloudmsp.customers.selectors import customer_get
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role
from cloudmsp.users import lockout, selectors, services, signin, two_factor
from cloudmsp.users.access import user_of
from cloudmsp.users.models import ApiToken, User


class UserSerializer(ModelSerializer[User]):
    activated = serializers.BooleanField(read_only=True)
    tenant = serializers.IntegerField(source="tenant_id", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    version = VersionField()

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
            "version",
        ]
        read_only_fields = ["id", "role", "created_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"email": {"validators": []}}


class UserCreateSerializer(UserSerializer):
    role = serializers.ChoiceField(choices=[Role.TENANT_ADMIN, Role.CUSTOMER_USER])
    tenant = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="System administrators: the tenant."
    )
    customer = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="For customer users: their customer."
    )

    class Meta(UserSerializer.Meta):
        read_only_fields = ["id", "is_active", "created_at"]


class ActivationLinkSerializer(serializers.Serializer[Any]):
    activation_link = serializers.CharField()


EDIT_CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The `version` sent is not the user's: someone else changed it since."
)


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

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    @method_decorator(never_cache)  # the answer carries the activation link
    def create(self, request: Request) -> Response:
        ser = UserCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        user, link = services.user_create(
            actor=self.actor,
            email=data["email"],
            role=data["role"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            phone=data.get("phone", ""),
            tenant_id=data.get("tenant"),
            customer_id=data.get("customer"),
        )
        body = dict(UserSerializer(user).data)
        body["activation_link"] = link
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserSerializer, responses={200: UserSerializer, 409: EDIT_CONFLICT})
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        user = self.fetch(pk)
        ser = UserSerializer(user, data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        hold_version(user, data.pop("updated_at", None))
        services.user_update(actor=self.actor, user=user, data=data)
        return Response(UserSerializer(self.fetch(pk)).data)

    @extend_schema(request=UserSerializer, responses={200: UserSerializer, 409: EDIT_CONFLICT})
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        services.user_delete(actor=self.actor, user=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ActivationLinkSerializer)
    @action(detail=True, methods=["post"], url_path="send-activation")
    @method_decorator(never_cache)  # the answer carries the activation link
    def send_activation(self, request: Request, pk: str) -> Response:
        link = services.user_send_activation(actor=self.actor, user=self.fetch(pk))
        return Response({"activation_link": link})


class TokenRequestSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, default="api")
    otp_code = serializers.RegexField(
        r"^\s*[0-9]{6,8}\s*$",
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="For accounts with two-factor authentication: the current code of the authenticator app.",
    )


def _refused(message: str, errors: dict[str, list[str]] | None = None, code: int = 400) -> Response:
    return Response({"detail": message, "errors": errors or {}}, status=code)


class ObtainTokenView(RateLimitMixin, APIView):
    """Exchange an email and password for an API token (shown once)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # The sign-in page's request-rate limits, per email and per address (cloudmsp/api/throttling.py).
    throttle_classes = [LoginIPThrottle, TokenLoginEmailThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(
                ErrorSerializer,
                description="Wrong email or password (or two-factor code), or an account that cannot sign in.",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="The tenant requires two-factor authentication and the user has not set it up.",
            ),
            # Also the lockout after LOGIN_FAILURE_LIMIT failed attempts, with Retry-After.
            **THROTTLED,
        },
        auth=[],
    )
    @method_decorator(never_cache)  # the answer carries the token
    def post(self, request: Request) -> Response:
        ser = TokenRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        attempt = signin.signin_password(request=request._request, email=data["email"], password=data["password"])
        user = attempt.user
        if user is not None and two_factor.has_device(user):
            code = (data.get("otp_code") or "").strip()
            if not code:
                message = "This account uses two-factor authentication: send the current code of its authenticator app."
                return _refused(message, {"otp_code": ["Enter the code of your authenticator app."]})
            attempt = signin.signin_code(request=request._request, user=user, code=code)
            if attempt.user is None and not attempt.locked:
                return _refused(attempt.message, {"otp_code": [attempt.message]})
        elif user is not None and two_factor.must_enrol(user):
            return _refused(
                "Your organization requires two-factor authentication: sign in to the portal and set it up first.",
                code=status.HTTP_403_FORBIDDEN,
            )
        if attempt.locked:
            return lockout.locked_api_response(attempt.retry_after)  # type: ignore[return-value]
        if attempt.user is None:
            return _refused(attempt.message)
        lockout.reset(request._request, attempt.user.email)
        _, secret = services.api_token_create(actor=attempt.user, name=data["name"])
        return Response({"token": secret})


class ApiTokenSerializer(ModelSerializer[ApiToken]):
    name = StrictCharField(max_length=100, help_text="What the token is for, to tell it apart when revoking.")
    prefix = serializers.CharField(read_only=True, help_text="The first characters of the secret.")
    created = serializers.DateTimeField(source="created_at", read_only=True)
    last_used = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "last_used"]
        read_only_fields = ["id"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret: shown this once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


@extend_schema_view(list=extend_schema(parameters=list_parameters(selectors.API_TOKEN_ORDERINGS)))
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The caller's own API tokens: listed by name and prefix (never the secret), created with a
    name (the secret is in the answer, once), revoked. Anyone else's token answers 404."""

    serializer_class = ApiTokenSerializer
    read_roles = (Role.SYSADMIN, Role.TENANT_ADMIN, Role.CUSTOMER_USER)
    write_roles = (Role.SYSADMIN, Role.TENANT_ADMIN, Role.CUSTOMER_USER)
    orderings = selectors.API_TOKEN_ORDERINGS
    default_ordering = "-created"

    def list_queryset(self) -> Any:
        return selectors.api_token_list(actor=user_of(self.request.user), **self.list_params())

    def fetch(self, pk: str) -> ApiToken:
        return selectors.api_token_get(actor=user_of(self.request.user), token_id=pk)

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    @method_decorator(never_cache)  # the answer carries the token
    def create(self, request: Request) -> Response:
        ser = ApiTokenSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        token, secret = services.api_token_create(actor=user_of(self.request.user), name=ser.validated_data["name"])
        body = dict(ApiTokenSerializer(token).data)
        body["token"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        services.api_token_revoke(actor=user_of(self.request.user), token=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
