"""One base for every API view: authentication, roles, scoping and list parameters live here;
subclasses only say which selector lists and fetches, and which service writes."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from cloudmsp.api.throttling import RateLimitMixin, TenantRateThrottle
from cloudmsp.core.errors import PermissionDenied

MAX_SEARCH = 200


class RolePermission(permissions.BasePermission):
    """Reads need a role in `read_roles`, writes one in `write_roles`."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method and not hasattr(view, request.method.lower()):
            # A method the endpoint serves to nobody: let DRF answer 405, not a misleading 403.
            return True
        safe = request.method in permissions.SAFE_METHODS
        roles = getattr(view, "read_roles" if safe else "write_roles", ())
        if getattr(user, "role", None) not in roles:
            raise PermissionDenied("Your role does not allow this.")
        return True


class BaseViewSet(RateLimitMixin, viewsets.GenericViewSet[Any]):
    """The API's scaffolding: roles (RolePermission), rate limits and list parameters. Domain views
    subclass tenancy.api.ScopedViewSet, which adds the typed actor."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    lookup_value_regex = "[0-9]+"
    read_roles: ClassVar[tuple[str, ...]] = ()
    write_roles: ClassVar[tuple[str, ...]] = ()
    #: action -> its rate limit (a key of settings.RATE_LIMITS), counted per tenant after the
    #: role check, so refused callers use up nobody's budget.
    rate_limits: ClassVar[dict[str, str]] = {}
    orderings: ClassVar[dict[str, Any]] = {}
    default_ordering: ClassVar[str] = ""

    def get_throttles(self) -> list[BaseThrottle]:
        scope = self.rate_limits.get(self.action or "")
        return [TenantRateThrottle(scope)] if scope else []

    def list_params(self) -> dict[str, Any]:
        q = self.request.query_params
        ordering = q.get("ordering", self.default_ordering)
        if ordering not in self.orderings:
            ordering = self.default_ordering
        return {"search": q.get("search", "")[:MAX_SEARCH], "ordering": ordering}

    def list_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def fetch(self, pk: str) -> Model:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation: no request user; only the model matters.
            model: type[Model] = self.get_serializer_class().Meta.model  # type: ignore[attr-defined]
            return model._default_manager.none()
        return self.list_queryset()

    def get_object(self) -> Model:
        return self.fetch(self.kwargs[self.lookup_url_kwarg or self.lookup_field])


def list_parameters(orderings: dict[str, Any], *extra: OpenApiParameter) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("search", OpenApiTypes.STR, description="Case-insensitive text search."),
        OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(orderings), description="Sort key."),
        *extra,
    ]
