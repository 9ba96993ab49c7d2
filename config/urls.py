from django.urls import include, path

import cloudmsp.core.converters  # noqa: F401  (registers the <id:...> converter)

urlpatterns = [
    path("api/v1/", include("cloudmsp.api.urls")),
    path("customers/", include("cloudmsp.customers.urls")),
    path("system/tenants/", include("cloudmsp.tenancy.urls")),
    path("audit/", include("cloudmsp.audit.urls")),
    path("administration/accounts/", include("cloudmsp.cloud.urls")),
    path("", include("cloudmsp.users.urls")),
    path("", include("cloudmsp.web.urls")),
]
