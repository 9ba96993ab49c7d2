from django.apps import AppConfig


class CloudConfig(AppConfig):
    name = "cloudmsp.cloud"
    label = "cloud"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from cloudmsp.cloud import receivers, search, tasks  # noqa: F401  (tasks register with services.jobs)
        from cloudmsp.customers.signals import customer_deleting

        customer_deleting.connect(receivers.release_accounts_of_deleted_customer, dispatch_uid="cloud-release-accounts")
        connection_created.connect(search.register_sqlite_function, dispatch_uid="cloudmsp.cloud.search")
        register_tables()


def register_tables() -> None:
    from cloudmsp.web.columns import Table, register_table

    # The columns a user may hide: every account table (all, Non-MSP, an organization's members)
    # shares one choice; the account id, the selection and the actions stay.
    accounts = {
        "name": "Name",
        "type": "Type",
        "ou": "Organizational unit",
        "customer": "Customer",
        "onboarding": "Onboarding",
        "aws_state": "AWS state",
        "health": "Health",
    }
    register_table(Table("accounts", accounts, event="accounts-changed"))
    msp = {
        "name": "Name",
        "members": "Member accounts",
        "onboarded": "Onboarded",
        "role": "Role",
        "health": "Health",
        "last_sync": "Last sync",
    }
    register_table(Table("msp", msp, event="accounts-changed"))
