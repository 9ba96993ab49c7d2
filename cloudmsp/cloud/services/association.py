"""Linking accounts to customers and removing them, all or nothing, in a fixed number of
statements whatever the number of accounts.

Two administrators changing overlapping accounts at once: one wins, the other is refused with
ConflictError (409) and changes nothing, so every account ends as one of them left it, never a
mix, and the audit trail records exactly the changes made. The request reads the accounts'
assignment as it arrives (or takes the one its dialog showed, `seen_state`); then, in its write
transaction, it takes the rows — PostgreSQL: `FOR UPDATE NOWAIT` in id order, so a change
holding any of them refuses this one at once; SQLite: the IMMEDIATE transaction admits one
writer at a time — and refuses if the assignment is no longer what it read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, QuerySet, Value
from django.db.models.functions import JSONArray, JSONObject
from django.utils import timezone

from cloudmsp.audit.services import audit_record_each
from cloudmsp.cloud.models import CloudAccount, OwnershipCause
from cloudmsp.cloud.selectors import account_ids_matching, selection_state
from cloudmsp.cloud.services.ownership import ownership_change
from cloudmsp.core.concurrency import lock_conflicts
from cloudmsp.core.errors import ConflictError
from cloudmsp.core.queries import id_set
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, in_tenant, not_found, parse_id, require_tenant_admin

MAX_BULK = 100_000
CONFLICT = "Someone else is changing these accounts; reload and try again."


def require_bulk_size(count: int) -> None:
    """ValidationError (on `accounts`) when more than MAX_BULK accounts are asked for at once."""
    if count > MAX_BULK:
        raise ValidationError({"accounts": [f"At most {MAX_BULK} accounts at once."]})


def accounts_matching(*, actor: Actor, search: str = "", filters: dict[str, Any]) -> list[int]:
    """The ids of every account of the actor's tenant that the account list shows with this
    search and these filters (selectors.account_list), for a bulk change of "all N accounts
    matching this filter": one statement; ValidationError (on `accounts`) when none matches or
    more than MAX_BULK do."""
    ids = account_ids_matching(actor=actor, search=search, filters=filters, limit=MAX_BULK)
    require_bulk_size(len(ids))
    if not ids:
        raise ValidationError({"accounts": ["No account matches this filter."]})
    return ids


def parse_account_ids(raw: Iterable[object]) -> list[int]:
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
        require_bulk_size(len(ids) + len(bad))
    if bad:
        raise ValidationError({"accounts": [f"{len(bad)} of the ids are not valid account ids."]})
    if not ids:
        raise ValidationError({"accounts": ["Select at least one account."]})
    return sorted(set(ids))


def _accounts(tenant_id: int, ids: list[int]) -> QuerySet[CloudAccount]:
    """The tenant's accounts with these ids, in one statement whatever their number."""
    return CloudAccount.objects.for_tenant(tenant_id).filter(pk__in=id_set(ids))


def _assignment(tenant_id: int, ids: list[int], *, lock: bool = False) -> list[tuple[int, int | None]]:
    """(id, customer_id) of the tenant's accounts with these ids, in id order; with `lock`, the
    rows are taken for this transaction or, if another holds one, the database refuses at once."""
    qs = _accounts(tenant_id, ids).order_by("pk")
    if lock:
        qs = qs.select_for_update(nowait=True)
    return list(qs.values_list("pk", "customer_id"))


def _change(
    *, actor: Actor, tenant_id: int, ids: list[int], customer: Customer | None, action: str, seen_state: str
) -> int:
    arrived = _assignment(tenant_id, ids)
    if len(arrived) != len(ids):
        # Foreign and missing ids look alike, and nothing is changed.
        raise ValidationError({"accounts": [f"{len(ids) - len(arrived)} of the selected accounts were not found."]})
    expected = seen_state or selection_state(arrived)
    with lock_conflicts(CONFLICT), transaction.atomic():
        if selection_state(_assignment(tenant_id, ids, lock=True)) != expected:
            raise ConflictError(CONFLICT)
        return set_customer(
            actor=actor,
            tenant_id=tenant_id,
            ids=ids,
            customer=customer,
            action=action,
            cause=OwnershipCause.MANUAL if len(ids) == 1 else OwnershipCause.BULK,
        )


def set_customer(
    *,
    actor: Actor | None,
    tenant_id: int,
    ids: list[int],
    customer: Customer | None,
    action: str,
    cause: str,
    message: str = "",
    now: datetime | None = None,
    history_closed: bool = False,
) -> int:
    """Audit, record the ownership history of (services.ownership), then change, every account
    of `ids` whose customer differs: four statements for any number of accounts (the audit and
    history rows are built by the database from the accounts themselves). The caller holds the
    transaction, and has checked `ids` and `customer` belong to the tenant. `history_closed`:
    the caller has already ended these accounts' open intervals (ownership_close), once for
    several calls; three statements then."""
    target = customer.pk if customer else None
    changing = _accounts(tenant_id, ids)
    changing = changing.filter(customer__isnull=False) if target is None else changing.exclude(customer_id=target)
    changed = audit_record_each(
        actor=actor,
        action=action,
        rows=changing,
        object_repr="account_id",
        changes=JSONObject(customer=JSONArray("customer_id", Value(target, output_field=BigIntegerField()))),
        message=message,
    )
    now = now or timezone.now()
    ownership_change(
        tenant_id=tenant_id,
        ids=ids,
        rows=changing,
        customer=customer,
        actor=actor,
        cause=cause,
        now=now,
        closed=history_closed,
    )
    updated = changing.update(customer=customer, updated_at=now)
    assert updated == changed, (updated, changed)
    return updated


def accounts_associate(*, actor: Actor, customer: Customer, account_ids: Iterable[object], seen_state: str = "") -> int:
    """Link every listed account to `customer` (fetched through the access helpers), or none
    of them if any id is invalid or outside the tenant (ValidationError), or if someone else is
    changing them or has changed them since `seen_state` (a `selection_state` the client was
    shown) or since this request arrived (ConflictError). Returns how many changed."""
    tenant = require_tenant_admin(actor)
    if not in_tenant(customer, tenant):
        raise ValidationError({"customer": [not_found("Customer", customer.pk).message]})
    ids = parse_account_ids(account_ids)
    return _change(
        actor=actor,
        tenant_id=tenant.pk,
        ids=ids,
        customer=customer,
        action="cloud_account.associate",
        seen_state=seen_state,
    )


def accounts_disassociate(*, actor: Actor, account_ids: Iterable[object], seen_state: str = "") -> int:
    """Remove every listed account from its customer, all or nothing, on the same terms as
    `accounts_associate`."""
    tenant = require_tenant_admin(actor)
    ids = parse_account_ids(account_ids)
    return _change(
        actor=actor,
        tenant_id=tenant.pk,
        ids=ids,
        customer=None,
        action="cloud_account.disassociate",
        seen_state=seen_state,
    )
