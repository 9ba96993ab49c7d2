from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cloudmsp.web"
    label = "web"
