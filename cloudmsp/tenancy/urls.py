from cloudmsp.tenancy.views import pages
from cloudmsp.users.pages import system_tenant_admin_pages

app_name = "tenancy"
urlpatterns = [*pages.urls(), *system_tenant_admin_pages.urls()]
