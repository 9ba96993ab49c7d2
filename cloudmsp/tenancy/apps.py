from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "cloudmsp.tenancy"
    label = "tenancy"
