from typing import Any

from django.urls import URLPattern, URLResolver, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from cloudmsp.api.errors import unknown_endpoint
from cloudmsp.audit.api import AuditEventViewSet
from cloudmsp.cloud.api import CloudAccountViewSet, JobViewSet
from cloudmsp.customers.api import CustomerViewSet
from cloudmsp.tenancy.api import TenantViewSet
from cloudmsp.users.api import ApiTokenViewSet, ObtainTokenView, UserViewSet

router = SimpleRouter()
router.register("tenants", TenantViewSet, basename="tenant")
router.register("users", UserViewSet, basename="user")
router.register("customers", CustomerViewSet, basename="customer")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("cloud-accounts", CloudAccountViewSet, basename="cloud-account")
router.register("jobs", JobViewSet, basename="job")
router.register("tokens", ApiTokenViewSet, basename="token")


def _api_authenticates(patterns: list[Any]) -> list[URLPattern | URLResolver]:
    """The API authenticates with its own classes (token or session) and answers 401/403 in
    JSON, so Django's login-redirect middleware must leave it alone."""
    for p in patterns:
        if isinstance(p, URLPattern):
            p.callback.login_required = False  # type: ignore[attr-defined]
    return patterns


urlpatterns = _api_authenticates(
    [
        path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
        path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
        path(
            "docs/",
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", permission_classes=[], template_name="api/swagger_ui.html"
            ),
            name="api-docs",
        ),
        *router.urls,
        # Last: only paths ending in a slash, so Django still redirects a missing trailing slash.
        # [\s\S], not `.`: a path with a newline in it is an unknown endpoint too.
        re_path(r"^[\s\S]*/\Z", unknown_endpoint),
    ]
)
