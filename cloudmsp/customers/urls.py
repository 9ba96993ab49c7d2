from django.urls import path

from cloudmsp.customers.views import customer_import, pages

urlpatterns = [path("import/", customer_import, name="import"), *pages.urls()]
