from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "cloudmsp.users"
    label = "users"
