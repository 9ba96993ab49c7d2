"""The wiring: which pages and API endpoints exist, and under which names. Each app lists its own
pages (its urls.py or its page classes); the composition, including pages of one app shown in
another's area (a customer's users under customers/), is made here."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

import cloudmsp.core.converters  # noqa: F401  (registers the <id:...> converter)
from cloudmsp.api.routing import api_urlpatterns
from cloudmsp.audit import urls as audit_urls
from cloudmsp.audit.api import AuditEventViewSet
from cloudmsp.cloud import urls as cloud_urls
from cloudmsp.cloud.api.accounts import CloudAccountViewSet
from cloudmsp.cloud.api.imports import ImportViewSet
from cloudmsp.cloud.api.jobs import JobViewSet
from cloudmsp.cloud.api.ownership import OwnershipViewSet
from cloudmsp.cloud.api.rules import AssignmentRuleViewSet
from cloudmsp.cloud.api.schedule import ScheduleViewSet
from cloudmsp.cloud.selectors import customer_ownership_history
from cloudmsp.customers import urls as customers_urls
from cloudmsp.customers.api import CustomerViewSet
from cloudmsp.customers.views import pages as customer_pages
from cloudmsp.notifications import urls as notifications_urls
from cloudmsp.notifications.api import WebhookDeliveryViewSet, WebhookViewSet
from cloudmsp.tenants import urls as tenants_urls
from cloudmsp.tenants.api import TenantViewSet
from cloudmsp.users import urls as users_urls
from cloudmsp.users.api import ApiTokenViewSet, ObtainTokenView, UserViewSet
from cloudmsp.users.pages import customer_user_pages, system_tenant_admin_pages
from cloudmsp.web import urls as web_urls
from config.views import home

# A customer's History tab shows which accounts it owned when: kept by the accounts app above it.
customer_pages.ownership_history = lambda actor, customer: customer_ownership_history(actor=actor, customer=customer)

router = SimpleRouter()
router.register("tenants", TenantViewSet, basename="tenant")
router.register("users", UserViewSet, basename="user")
router.register("customers", CustomerViewSet, basename="customer")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("cloud-accounts", CloudAccountViewSet, basename="cloud-account")
router.register("jobs", JobViewSet, basename="job")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("ownership", OwnershipViewSet, basename="ownership")
router.register("assignment-rules", AssignmentRuleViewSet, basename="assignment-rule")
router.register("imports", ImportViewSet, basename="import")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

schedule = ScheduleViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"})
api = api_urlpatterns(
    router,
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schedule/", schedule, name="schedule"),
)

urlpatterns = [
    path("api/v1/", include(api)),
    path("customers/", include(([*customers_urls.urlpatterns, *customer_user_pages.urls()], "customers"))),
    path("system/tenants/", include(([*tenants_urls.urlpatterns, *system_tenant_admin_pages.urls()], "tenants"))),
    path("audit/", include((audit_urls.urlpatterns, "audit"))),
    path("administration/accounts/", include((cloud_urls.urlpatterns, "cloud"))),
    path("administration/notifications/", include((notifications_urls.urlpatterns, "notifications"))),
    path("", include((users_urls.urlpatterns, "users"))),
    path("", include(([path("", home, name="home"), *web_urls.urlpatterns], "web"))),
]
