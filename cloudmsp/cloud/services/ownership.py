"""Ownership history (SPEC 10): who owned an account when. Every change of an account's customer
goes through `ownership_change`, inside the change's transaction and before it: two statements
for any number of accounts, whatever their number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Now

from cloudmsp.cloud.models import CloudAccount, OwnershipCause, OwnershipInterval
from cloudmsp.core.queries import in_values, insert_select

_COLUMNS = (
    "created_at",
    "updated_at",
    "tenant_id",
    "account_id",
    "customer_id",
    "customer_name",
    "valid_from",
    "valid_to",
    "actor_id",
    "actor_email",
    "cause",
    "closed_by",
)


def ownership_close(*, tenant_id: int, account_ids: list[int], cause: str, now: datetime, keep: Any = None) -> int:
    """End, at `now`, the open interval of every account of `account_ids` (but those already
    `keep`'s, the customer they are about to be given): one statement. An account's open
    interval is its current customer's, so the intervals are found from the ids themselves,
    tested by hashing (core.queries.in_values): through a subquery of the changing accounts,
    PostgreSQL, with statistics from before the intervals were written, plans a loop over the
    ids for each interval (2.6 s for 10,000 accounts)."""
    open_intervals = OwnershipInterval.objects.for_tenant(tenant_id).filter(
        in_values("account_id", account_ids), valid_to__isnull=True
    )
    if keep is not None:
        open_intervals = open_intervals.exclude(customer_id=keep.pk)
    return open_intervals.update(valid_to=now, closed_by=cause, updated_at=now)


def ownership_change(
    *,
    tenant_id: int,
    ids: list[int],
    rows: models.QuerySet[CloudAccount],
    customer: Any,
    actor: Any,
    cause: str,
    now: datetime,
    closed: bool = False,
) -> int:
    """Close the open interval of every account in `rows` (those of `ids` whose customer is about
    to change, read before the change; unless the caller has, `closed`, with ownership_close)
    and, when `customer` is not None, open the next one for it. Returns how many intervals were
    opened."""
    if not closed:
        ownership_close(tenant_id=tenant_id, account_ids=ids, cause=cause, now=now, keep=customer)
    if customer is None:
        return 0
    actor_id = getattr(actor, "pk", None)
    select = rows.annotate(
        o_created_at=Value(now, output_field=models.DateTimeField()),
        o_updated_at=Value(now, output_field=models.DateTimeField()),
        o_tenant_id=F("tenant_id"),
        o_account_id=F("pk"),
        o_customer_id=Value(customer.pk, output_field=models.BigIntegerField()),
        o_customer_name=Value(customer.company_name[:200], output_field=models.CharField()),
        o_valid_from=Value(now, output_field=models.DateTimeField()),
        o_valid_to=Value(None, output_field=models.DateTimeField()),
        o_actor_id=Value(actor_id, output_field=models.BigIntegerField()),
        o_actor_email=Value(getattr(actor, "email", "") or "", output_field=models.CharField()),
        o_cause=Value(cause, output_field=models.CharField()),
        o_closed_by=Value("", output_field=models.CharField()),
    ).values(*(f"o_{c}" for c in _COLUMNS))
    return insert_select(OwnershipInterval, _COLUMNS, select.order_by())


def ownership_customer_deleted(*, customer: Any) -> int:
    """The deleted customer's open intervals end now (its accounts become unassigned)."""
    return (
        OwnershipInterval.objects.for_tenant(customer.tenant_id)
        .filter(customer=customer, valid_to__isnull=True)
        .update(valid_to=Now(), closed_by=OwnershipCause.CUSTOMER_DELETED, updated_at=Now())
    )
