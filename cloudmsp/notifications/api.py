"""`/api/v1/webhooks/` and `/api/v1/webhook-deliveries/` (SPEC 9), tenant administrators'."""

from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.base import list_parameters
from cloudmsp.api.serializers import ErrorSerializer, ModelSerializer
from cloudmsp.notifications import selectors, services
from cloudmsp.notifications.models import DeliveryState, EventType, Webhook, WebhookDelivery
from cloudmsp.tenancy.api import ScopedViewSet
from cloudmsp.tenancy.roles import Role

NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such webhook within reach.")}


class WebhookSerializer(ModelSerializer[Webhook]):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        max_length=len(EventType.values),
        help_text="Event types sent to it; empty for all.",
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "description", "events", "enabled", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret: shown this once.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSerializer.Meta.read_only_fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    webhook = serializers.IntegerField(source="webhook_id", read_only=True)
    event_id = serializers.UUIDField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    event = serializers.JSONField(source="event.payload", read_only=True, help_text="The body that was sent.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "event_id",
            "event_type",
            "attempt",
            "state",
            "due_at",
            "attempted_at",
            "status_code",
            "duration_ms",
            "error",
            "response_excerpt",
            "will_retry",
            "resend_of",
            "event",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(parameters=list_parameters(selectors.WEBHOOK_ORDERINGS)))
class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedViewSet,
):
    """The tenant's webhooks: each gets the events it subscribes to, signed with its secret."""

    serializer_class = WebhookSerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = (Role.TENANT_ADMIN,)
    orderings = selectors.WEBHOOK_ORDERINGS
    default_ordering = "created_at"
    rate_limits = {"test": "webhook_test"}

    def list_queryset(self) -> Any:
        return selectors.webhook_list(actor=self.actor, **self.list_params())

    def fetch(self, pk: str) -> Webhook:
        return selectors.webhook_get(actor=self.actor, webhook_id=pk)

    def _data(self, *, partial: bool) -> dict[str, Any]:
        ser = WebhookSerializer(data=self.request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        return dict(ser.validated_data)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    @method_decorator(never_cache)  # the answer carries the secret
    def create(self, request: Request) -> Response:
        data = self._data(partial=False)
        webhook, secret = services.webhook_create(actor=self.actor, **data)
        body = WebhookCreatedSerializer(webhook).data
        return Response({**body, "secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookSerializer, responses={200: WebhookSerializer, **NOT_FOUND})
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        webhook = self.fetch(pk)
        data = self._data(partial=partial)
        services.webhook_update(actor=self.actor, webhook=webhook, **data)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(request=WebhookSerializer, responses={200: WebhookSerializer, **NOT_FOUND})
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        services.webhook_delete(actor=self.actor, webhook=self.fetch(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={202: DeliverySerializer, **NOT_FOUND},
        description="Send a `test` event to this webhook (enabled or not); follow the delivery at "
        "`/webhook-deliveries/{id}/`.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        delivery = services.webhook_send_test(actor=self.actor, webhook=self.fetch(pk))
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        parameters=list_parameters(
            selectors.DELIVERY_ORDERINGS,
            OpenApiParameter("webhook", OpenApiTypes.INT),
            OpenApiParameter("state", OpenApiTypes.STR, enum=DeliveryState.values),
            OpenApiParameter("event_type", OpenApiTypes.STR, enum=EventType.values),
        )
    )
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Every attempt to deliver an event: status code, duration, error; failed ones can be re-sent."""

    serializer_class = DeliverySerializer
    read_roles = (Role.TENANT_ADMIN,)
    write_roles = (Role.TENANT_ADMIN,)
    orderings = selectors.DELIVERY_ORDERINGS
    default_ordering = "-created_at"
    rate_limits = {"resend": "webhook_test"}

    def list_queryset(self) -> Any:
        q = self.request.query_params
        state = q.get("state", "")
        if state and state not in DeliveryState.values:
            raise serializers.ValidationError({"state": [f"One of {', '.join(DeliveryState.values)}."]})
        event_type = q.get("event_type", "")
        if event_type and event_type not in EventType.values:
            raise serializers.ValidationError({"event_type": ["Not an event type."]})
        webhook = q.get("webhook", "")
        return selectors.delivery_list(
            actor=self.actor, webhook=webhook, state=state, event_type=event_type, **self.list_params()
        )

    def fetch(self, pk: str) -> WebhookDelivery:
        return selectors.delivery_get(actor=self.actor, delivery_id=pk)

    @extend_schema(
        request=None,
        responses={202: DeliverySerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        description="Send the delivery's event to its webhook again (a new series of attempts).",
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        delivery = services.delivery_resend(actor=self.actor, delivery=self.fetch(pk))
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
