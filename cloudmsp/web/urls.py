from django.urls import path

from cloudmsp.web import views

urlpatterns = [path("healthz", views.healthz, name="healthz")]
