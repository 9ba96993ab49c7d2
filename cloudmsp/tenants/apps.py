from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """The system administrator's tenants: create (with the first administrator), rename,
    disable, require two-factor authentication, delete, with each tenant's counts. It stands on
    every other app; the Tenant model itself and tenant scoping are tenancy's."""

    name = "cloudmsp.tenants"
    label = "tenants"
