from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cloudmsp.audit"
    label = "audit"
