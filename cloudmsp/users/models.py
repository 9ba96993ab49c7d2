from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from cloudmsp.core.models import TimeStampedModel
from cloudmsp.core.text import validate_plain_text
from cloudmsp.tenancy.models import Tenant, TenantManager
from cloudmsp.tenancy.roles import Role


class AccountManager(BaseUserManager["User"]):
    """The unscoped manager authentication uses (login by email across all tenants)."""

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=(username or "").strip())


class User(AbstractBaseUser, TimeStampedModel):
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True, validators=[validate_plain_text])
    last_name = models.CharField(max_length=100, blank=True, validators=[validate_plain_text])
    phone = models.CharField(max_length=40, blank=True, validators=[validate_plain_text])
    role = models.CharField(max_length=20, choices=Role.choices)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="users",
    )
    is_active = models.BooleanField(default=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # What the user chose for the pages (the columns each table hides: cloudmsp.web.columns).
    preferences = models.JSONField(default=dict, blank=True)

    unscoped = AccountManager()
    objects: ClassVar[TenantManager[User]] = TenantManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ci",
                violation_error_message="A user with this email already exists.",
                violation_error_code="duplicate_email",
            ),
            models.CheckConstraint(
                condition=(
                    Q(role=Role.SYSADMIN, tenant__isnull=True, customer__isnull=True)
                    | Q(role=Role.TENANT_ADMIN, tenant__isnull=False, customer__isnull=True)
                    | Q(role=Role.CUSTOMER_USER, tenant__isnull=False, customer__isnull=False)
                ),
                name="user_role_matches_tenant_and_customer",
                violation_error_message="The role does not match the tenant and customer.",
                violation_error_code="role_mismatch",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "role", "email"]),
            models.Index(fields=["customer", "email"]),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def activated(self) -> bool:
        return self.activated_at is not None

    @property
    def is_sysadmin(self) -> bool:
        return self.role == Role.SYSADMIN

    @property
    def is_tenant_admin(self) -> bool:
        return self.role == Role.TENANT_ADMIN

    @property
    def is_customer_user(self) -> bool:
        return self.role == Role.CUSTOMER_USER

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.email = (self.email or "").strip().lower()
        if self.customer is not None and self.customer.tenant_id != self.tenant_id:
            raise ValidationError({"customer": "The customer belongs to another tenant."})

    def natural_key(self) -> tuple[Any, ...]:
        return (self.email,)


class ApiToken(TimeStampedModel):
    """An API token. Only a SHA-256 digest of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, validators=[validate_plain_text])
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class UserSession(models.Model):
    """The sessions a user is signed in with, so that ending them all (on disable, delete or a
    password reset) looks up a handful of keys by user instead of decoding every session.
    Written at sign-in and sign-out only; the session itself stays in the session store."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"session of user #{self.user_id}"
