"""Tenants, and the base every tenant-owned model inherits.

Tenant-owned querysets fail closed: `Model.objects` refuses to run a query unless it was scoped
with `.for_tenant(tenant)` or reached through a related object of an already-scoped row. The
deliberately named escape hatch is `Model.unscoped`, for migrations, system jobs and tests.
"""

from __future__ import annotations

from typing import Any, Self

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from cloudmsp.core.models import TimeStampedModel
from cloudmsp.core.text import validate_plain_text


class TenantScopeError(RuntimeError):
    """A query on tenant-owned rows ran without a tenant: a programming error, never user input."""


class TenantQuerySet[M: models.Model](models.QuerySet[M]):
    _tenant_scoped = False

    def for_tenant(self, tenant: Tenant | int) -> Self:
        qs = self.filter(tenant=tenant)
        qs._tenant_scoped = True
        return qs

    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]
        clone._tenant_scoped = self._tenant_scoped
        return clone

    def _check_scoped(self) -> None:
        # Related managers (customer.users.all()) carry the parent instance as a hint: the
        # parent was fetched scoped, so its children are in the same tenant.
        if not self._tenant_scoped and "instance" not in self._hints:  # type: ignore[attr-defined]
            raise TenantScopeError(
                f"{self.model.__name__} queried without a tenant: use "
                f".objects.for_tenant(tenant) or, deliberately, .unscoped"
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scoped()
        super()._fetch_all()

    def count(self) -> int:
        self._check_scoped()
        return super().count()

    def exists(self) -> bool:
        self._check_scoped()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_scoped()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scoped()
        return super().delete()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._check_scoped()
        return super().iterator(chunk_size=chunk_size)


class TenantManager[M: models.Model](models.Manager[M]):
    def get_queryset(self) -> TenantQuerySet[M]:
        return TenantQuerySet(self.model, using=self._db, hints=self._hints)  # type: ignore[attr-defined]

    def for_tenant(self, tenant: Tenant | int) -> TenantQuerySet[M]:
        return self.get_queryset().for_tenant(tenant)


class Tenant(TimeStampedModel):
    name = models.CharField(max_length=200, validators=[validate_plain_text])
    is_active = models.BooleanField(default=True)
    # Its administrators must sign in with a second factor (TOTP) and enrol before anything else.
    require_admin_2fa = models.BooleanField(default=False)
    # The scheduler's intervals (SPEC 9): how often every connected management account is synced
    # and every connected role validated, and how long role checks are kept (state changes are
    # kept for good).
    sync_interval_minutes = models.PositiveIntegerField(
        default=24 * 60, validators=[MinValueValidator(1), MaxValueValidator(30 * 24 * 60)]
    )
    validation_interval_minutes = models.PositiveIntegerField(
        default=6 * 60, validators=[MinValueValidator(1), MaxValueValidator(30 * 24 * 60)]
    )
    check_retention_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tenant_name_unique_ci",
                violation_error_message="A tenant with this name already exists.",
                violation_error_code="duplicate_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TenantOwnedModel(TimeStampedModel):
    """Base of everything below a tenant: the tenant FK, timestamps and fail-closed managers."""

    # No index of its own: every subclass has composite indexes that start with the tenant, and
    # a lone tenant index only tempts the planner away from them.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)

    # The first manager is Django's default manager: used by relations, validation of unique
    # constraints and deletion cascades, which must see every row. Application code uses
    # `objects`, which fails closed.
    unscoped = models.Manager()
    objects = TenantManager()

    class Meta:
        abstract = True
