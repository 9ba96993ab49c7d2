"""Linking accounts to customers and removing them, all or nothing, in a fixed number of
statements whatever the number of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.core.queries import IN_CHUNK, chunks
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import parse_id, require_tenant_admin

if TYPE_CHECKING:
    from cloudmsp.users.models import User

MAX_BULK = 100_000


def _account_ids(raw: Iterable[object]) -> list[int]:
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
        raise ValidationError({"accounts": ["Send a list of account ids."]})
    ids: list[int] = []
    bad: list[object] = []
    for value in raw:
        pk = parse_id(value)
        if pk is None:
            bad.append(value)
        else:
            ids.append(pk)
        if len(ids) + len(bad) > MAX_BULK:
            raise ValidationError({"accounts": [f"At most {MAX_BULK} accounts at once."]})
    if bad:
        raise ValidationError({"accounts": [f"{len(bad)} of the ids are not valid account ids."]})
    if not ids:
        raise ValidationError({"accounts": ["Select at least one account."]})
    return sorted(set(ids))


def _load(tenant_id: int, ids: list[int]) -> list[tuple[int, str, int | None]]:
    rows: list[tuple[int, str, int | None]] = []
    for part in chunks(ids, IN_CHUNK):
        rows.extend(
            CloudAccount.objects.for_tenant(tenant_id)
            .filter(pk__in=part)
            .values_list("id", "account_id", "customer_id")
        )
    if len(rows) != len(ids):
        # Foreign and missing ids look alike, and nothing is changed.
        raise ValidationError({"accounts": [f"{len(ids) - len(rows)} of the selected accounts were not found."]})
    return rows


def _set_customer(
    *, actor: User, tenant_id: int, rows: list[tuple[int, str, int | None]], customer: Customer | None, action: str
) -> int:
    now = timezone.now()
    target = customer.pk if customer else None
    changing = [r for r in rows if r[2] != target]
    for part in chunks([r[0] for r in changing], IN_CHUNK):
        CloudAccount.objects.for_tenant(tenant_id).filter(pk__in=part).update(customer=customer, updated_at=now)
    AuditEvent.unscoped.bulk_create(
        [
            AuditEvent(
                tenant_id=tenant_id,
                actor=actor,
                actor_email=actor.email,
                action=action,
                object_type="cloudaccount",
                object_id=str(pk),
                object_repr=account_id,
                changes={"customer": [before, target]},
                outcome=Outcome.SUCCESS,
            )
            for pk, account_id, before in changing
        ],
        batch_size=500,
    )
    return len(changing)


def accounts_associate(*, actor: User, customer: Customer, account_ids: Iterable[object]) -> int:
    """Link every listed account to `customer` (fetched through the access helpers), or none
    of them if any id is invalid or outside the tenant. Returns how many changed."""
    tenant = require_tenant_admin(actor)
    if customer.tenant_id != tenant.pk:
        raise ValidationError({"customer": ["Customer not found."]})
    ids = _account_ids(account_ids)
    with transaction.atomic():
        rows = _load(tenant.pk, ids)
        return _set_customer(
            actor=actor, tenant_id=tenant.pk, rows=rows, customer=customer, action="cloud_account.associate"
        )


def accounts_disassociate(*, actor: User, account_ids: Iterable[object]) -> int:
    """Remove every listed account from its customer, all or nothing."""
    tenant = require_tenant_admin(actor)
    ids = _account_ids(account_ids)
    with transaction.atomic():
        rows = _load(tenant.pk, ids)
        return _set_customer(
            actor=actor, tenant_id=tenant.pk, rows=rows, customer=None, action="cloud_account.disassociate"
        )
