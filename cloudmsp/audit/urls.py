from django.urls import path

from cloudmsp.audit import views

urlpatterns = [path("", views.audit_list, name="list")]
