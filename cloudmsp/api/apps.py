from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cloudmsp.api"
    label = "api"
