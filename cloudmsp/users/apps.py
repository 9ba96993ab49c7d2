from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "cloudmsp.users"
    label = "users"

    def ready(self) -> None:
        # Sign-in and sign-out keep the index of each user's sessions.
        from cloudmsp.users import sessions  # noqa: F401
