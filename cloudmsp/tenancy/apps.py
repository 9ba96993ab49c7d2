from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "cloudmsp.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from cloudmsp.tenancy import checks, rls  # noqa: F401  (checks registers itself)

        # Every PostgreSQL connection carries the running code's row-level security scope.
        connection_created.connect(rls.on_connection_created, dispatch_uid="cloudmsp.tenancy.rls")
