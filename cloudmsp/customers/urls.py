from cloudmsp.customers.views import pages

urlpatterns = pages.urls()
