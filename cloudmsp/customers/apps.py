from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "cloudmsp.customers"
    label = "customers"

    def ready(self) -> None:
        from cloudmsp.web.columns import Table, register_table

        # The customers table's columns a user may hide (the company name and actions stay).
        register_table(
            Table(
                "customers",
                {
                    "first_name": "First Name",
                    "last_name": "Last Name",
                    "email": "Email",
                    "accounts": "Accounts",
                    "users": "Users",
                },
                event="customers-changed",
            )
        )
