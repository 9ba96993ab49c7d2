from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "cloudmsp.customers"
    label = "customers"
