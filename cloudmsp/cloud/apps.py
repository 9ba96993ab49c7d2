from django.apps import AppConfig


class CloudConfig(AppConfig):
    name = "cloudmsp.cloud"
    label = "cloud"

    def ready(self) -> None:
        from cloudmsp.cloud import receivers, tasks  # noqa: F401  (tasks register with services.jobs)
        from cloudmsp.customers.signals import customer_deleting

        customer_deleting.connect(receivers.release_accounts_of_deleted_customer, dispatch_uid="cloud-release-accounts")
