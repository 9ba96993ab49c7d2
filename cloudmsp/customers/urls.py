from cloudmsp.customers.views import pages
from cloudmsp.users.pages import customer_user_pages

app_name = "customers"
urlpatterns = [*pages.urls(), *customer_user_pages.urls()]
