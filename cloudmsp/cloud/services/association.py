"""Linking accounts to customers and removing them, all or nothing, in a fixed number of
statements whatever the number of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, CharField, DateTimeField, F, QuerySet, Value
from django.db.models.functions import Cast, JSONArray, JSONObject
from django.utils import timezone

from cloudmsp.audit.models import AuditEvent, Outcome
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.core.queries import id_set
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import parse_id, require_tenant_admin

if TYPE_CHECKING:
    from cloudmsp.users.models import User

MAX_BULK = 100_000
AUDIT_COLUMNS = (
    "created_at",
    "tenant_id",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "outcome",
    "message",
)


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


def _accounts(tenant_id: int, ids: list[int]) -> QuerySet[CloudAccount]:
    """The tenant's accounts with these ids, in one statement whatever their number."""
    return CloudAccount.objects.for_tenant(tenant_id).filter(pk__in=id_set(ids))


def _check_all_found(tenant_id: int, ids: list[int]) -> None:
    found = _accounts(tenant_id, ids).count()
    if found != len(ids):
        # Foreign and missing ids look alike, and nothing is changed.
        raise ValidationError({"accounts": [f"{len(ids) - found} of the selected accounts were not found."]})


def _set_customer(*, actor: User, tenant_id: int, ids: list[int], customer: Customer | None, action: str) -> int:
    """Audit, then change, every account whose customer differs: two statements for any number
    of accounts (the audit rows are built by the database from the accounts themselves)."""
    target = customer.pk if customer else None
    changing = _accounts(tenant_id, ids)
    changing = changing.filter(customer__isnull=False) if target is None else changing.exclude(customer_id=target)
    audit_rows = changing.annotate(
        a_created_at=Value(timezone.now(), output_field=DateTimeField()),
        a_tenant_id=F("tenant_id"),
        a_actor_id=Value(actor.pk, output_field=BigIntegerField()),
        a_actor_email=Value(actor.email, output_field=CharField()),
        a_action=Value(action, output_field=CharField()),
        a_object_type=Value("cloudaccount", output_field=CharField()),
        a_object_id=Cast("id", output_field=CharField()),
        a_object_repr=F("account_id"),
        a_changes=JSONObject(customer=JSONArray("customer_id", Value(target, output_field=BigIntegerField()))),
        a_outcome=Value(Outcome.SUCCESS.value, output_field=CharField()),
        a_message=Value("", output_field=CharField()),
    ).values(*(f"a_{c}" for c in AUDIT_COLUMNS))
    select_sql, params = audit_rows.query.sql_with_params()
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in AUDIT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql}", params)
        changed = cursor.rowcount
    updated = changing.update(customer=customer, updated_at=timezone.now())
    assert updated == changed, (updated, changed)
    return updated


def accounts_associate(*, actor: User, customer: Customer, account_ids: Iterable[object]) -> int:
    """Link every listed account to `customer` (fetched through the access helpers), or none
    of them if any id is invalid or outside the tenant. Returns how many changed."""
    tenant = require_tenant_admin(actor)
    if customer.tenant_id != tenant.pk:
        raise ValidationError({"customer": ["Customer not found."]})
    ids = _account_ids(account_ids)
    with transaction.atomic():
        _check_all_found(tenant.pk, ids)
        return _set_customer(
            actor=actor, tenant_id=tenant.pk, ids=ids, customer=customer, action="cloud_account.associate"
        )


def accounts_disassociate(*, actor: User, account_ids: Iterable[object]) -> int:
    """Remove every listed account from its customer, all or nothing."""
    tenant = require_tenant_admin(actor)
    ids = _account_ids(account_ids)
    with transaction.atomic():
        _check_all_found(tenant.pk, ids)
        return _set_customer(
            actor=actor, tenant_id=tenant.pk, ids=ids, customer=None, action="cloud_account.disassociate"
        )
