from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cloudmsp.notifications"
    label = "notifications"

    def ready(self) -> None:
        from cloudmsp.notifications import tasks  # noqa: F401  (registers the delivery tasks)
