from typing import ClassVar

from django.db import models
from django.db.models.functions import Lower

from cloudmsp.core.models import DatabaseMaintainedFields
from cloudmsp.core.text import validate_plain_text
from cloudmsp.tenancy.models import TenantManager, TenantOwnedModel


def _text(max_length: int, *, blank: bool = True) -> models.CharField:  # type: ignore[type-arg]
    return models.CharField(max_length=max_length, blank=blank, validators=[validate_plain_text])


class Customer(DatabaseMaintainedFields, TenantOwnedModel):
    company_name = _text(200, blank=False)
    first_name = _text(100, blank=False)
    last_name = _text(100, blank=False)
    email = models.EmailField(max_length=254)
    phone = _text(40)
    country = _text(100)
    state = _text(100)
    city = _text(100)
    address = _text(200)
    address2 = _text(200)
    zip_code = _text(20)
    description = models.TextField(max_length=2000, blank=True, validators=[validate_plain_text])
    # How many cloud accounts are assigned to it, kept by the database (the cloud app's
    # migration 0012: triggers on the accounts table), so the list neither counts nor sorts by a
    # count per row.
    account_count = models.IntegerField(default=0, editable=False)
    database_maintained = ("account_count",)

    objects: ClassVar[TenantManager["Customer"]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["company_name"]
        default_manager_name = "unscoped"
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("company_name"),
                name="customer_company_name_unique_per_tenant_ci",
                violation_error_message="A customer with this company name already exists.",
                violation_error_code="duplicate_company_name",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "company_name", "id"]),
            models.Index(fields=["tenant", "email", "id"]),
            models.Index(fields=["tenant", "created_at", "id"]),
        ]

    def __str__(self) -> str:
        return str(self.company_name)
