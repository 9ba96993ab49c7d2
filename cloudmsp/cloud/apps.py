from django.apps import AppConfig


class CloudConfig(AppConfig):
    name = "cloudmsp.cloud"
    label = "cloud"
