from django.urls import path

from cloudmsp.notifications import views

urlpatterns = [
    *views.webhook_pages.urls(),
    path("webhooks/<id:webhook_id>/test/", views.webhook_test, name="webhook_test"),
    path("deliveries/", views.delivery_log, name="deliveries"),
    path("deliveries/<id:delivery_id>/resend/", views.delivery_resend, name="delivery_resend"),
    path("emails/", views.email_preferences, name="preferences"),
]
