"""The roles a person can hold. They live with tenancy (who may reach what), so that every app can
check a role without importing the users app."""

from django.db import models


class Role(models.TextChoices):
    SYSADMIN = "sysadmin", "System administrator"
    TENANT_ADMIN = "tenant_admin", "Tenant administrator"
    CUSTOMER_USER = "customer_user", "Customer user"
