"""Cloud accounts. Connecting, discovery and onboarding arrive with the account-management work;
the model is here so that customers can count and release their accounts."""

from typing import ClassVar

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from cloudmsp.core.text import validate_plain_text
from cloudmsp.tenancy.models import TenantManager, TenantOwnedModel

account_id_validator = RegexValidator(r"^\d{12}\Z", "An AWS account id is exactly 12 digits.")


class Provider(models.TextChoices):
    AWS = "aws", "AWS"


class Category(models.TextChoices):
    MSP = "msp", "MSP"
    NON_MSP = "non_msp", "Non-MSP"


class Kind(models.TextChoices):
    MANAGEMENT = "management", "Management"
    MEMBER = "member", "Member"
    STANDALONE = "standalone", "Standalone"


class AwsStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    SUSPENDED = "SUSPENDED", "Suspended"
    PENDING_CLOSURE = "PENDING_CLOSURE", "Pending closure"
    CLOSED = "CLOSED", "Closed"
    REMOVED = "REMOVED", "Removed"


class OnboardingStatus(models.TextChoices):
    NOT_ONBOARDED = "not_onboarded", "Not onboarded"
    ONBOARDED = "onboarded", "Onboarded"
    FAILED = "failed", "Failed"


class CloudAccount(TenantOwnedModel):
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.AWS)
    category = models.CharField(max_length=10, choices=Category.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="members")
    account_id = models.CharField(max_length=12, validators=[account_id_validator])
    name = models.CharField(max_length=200, blank=True, validators=[validate_plain_text])
    email = models.CharField(max_length=254, blank=True)
    aws_status = models.CharField(max_length=16, choices=AwsStatus.choices, default=AwsStatus.ACTIVE)
    ou_path = models.CharField(max_length=1000, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cloud_accounts",
    )
    role_arn = models.CharField(max_length=2048, blank=True)
    external_id = models.CharField(max_length=96, blank=True)
    role_created_by_portal = models.BooleanField(default=False)
    onboarding_status = models.CharField(
        max_length=16, choices=OnboardingStatus.choices, default=OnboardingStatus.NOT_ONBOARDED
    )
    last_validated_at = models.DateTimeField(null=True, blank=True)
    last_validation_message = models.TextField(blank=True)

    objects: ClassVar[TenantManager["CloudAccount"]] = TenantManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["account_id"]
        default_manager_name = "unscoped"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "account_id"],
                name="cloud_account_id_unique_per_tenant",
                violation_error_message="This account is already connected.",
            ),
            models.CheckConstraint(
                condition=(Q(kind=Kind.MEMBER, parent__isnull=False) | (~Q(kind=Kind.MEMBER) & Q(parent__isnull=True))),
                name="cloud_account_member_has_parent",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "category", "kind", "account_id"]),
            models.Index(fields=["tenant", "customer"]),
            models.Index(fields=["parent", "account_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.name}".strip()
