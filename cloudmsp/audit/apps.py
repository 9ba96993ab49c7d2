from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cloudmsp.audit"
    label = "audit"

    def ready(self) -> None:
        from cloudmsp.audit import receivers
        from cloudmsp.core.signals import access_denied

        access_denied.connect(receivers.record_access_denied, dispatch_uid="audit-access-denied")
