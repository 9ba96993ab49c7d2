from cloudmsp.tenants.views import pages

urlpatterns = pages.urls()
