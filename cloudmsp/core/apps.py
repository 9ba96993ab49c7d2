from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cloudmsp.core"
    label = "core"
