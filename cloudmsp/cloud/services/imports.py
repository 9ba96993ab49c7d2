"""Importing account-to-customer mappings from CSV (SPEC 10): columns `account_id` (the 12-digit
AWS account id) and `customer` (the company name; empty: no customer). A dry run answers the
diff and writes nothing; applying is all or nothing, through association.set_customer (audit and
ownership history with cause `import`, in the same transaction).

Statements, whatever the number of lines: one read of the file's accounts, one of the tenant's
customers; applying adds one locking read, one that ends the moving accounts' ownership
intervals, then three per customer the file moves accounts to (audit, the next interval, the
change; the accounts are grouped by their new customer) — never a statement per line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cloudmsp.cloud.models import CloudAccount, OwnershipCause
from cloudmsp.cloud.providers import provider_for
from cloudmsp.cloud.selectors import selection_state
from cloudmsp.cloud.services.association import CONFLICT, set_customer
from cloudmsp.cloud.services.ownership import ownership_close
from cloudmsp.core.concurrency import lock_conflicts
from cloudmsp.core.csvfiles import CsvTable, ImportDiff, ImportRefused, csv_read
from cloudmsp.core.errors import ConflictError
from cloudmsp.core.queries import in_values
from cloudmsp.core.text import normalize
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import Actor, require_tenant_admin

COLUMNS = ("account_id", "customer")
ACTION = "cloud_account.import"


@dataclass(frozen=True)
class _Move:
    pk: int
    was: int | None
    to: int | None


def _unique_rows(table: CsvTable, diff: ImportDiff) -> list[tuple[int, str, str]]:
    """(line, account id, customer name) of the rows whose account id is well formed and not
    already given on an earlier line."""
    provider = provider_for("aws")
    first_line: dict[str, int] = {}
    rows = []
    for line, cells in table.rows:
        account_id = cells["account_id"]
        try:
            provider.validate_account_id(account_id)
        except ValidationError as exc:
            diff.error(line, "account_id", exc.messages[0])
            continue
        if account_id in first_line:
            diff.error(line, "account_id", f"account {account_id} is already on line {first_line[account_id]}.")
            continue
        first_line[account_id] = line
        rows.append((line, account_id, cells["customer"]))
    return rows


def _customers_by_name(tenant_id: int) -> dict[str, Customer | None]:
    """The tenant's customers by case-folded name (None where two names fold alike)."""
    found: dict[str, Customer | None] = {}
    for customer in Customer.objects.for_tenant(tenant_id).only("pk", "company_name"):
        key = normalize(customer.company_name).casefold()
        found[key] = None if key in found else customer
    return found


def _plan(tenant_id: int, table: CsvTable) -> tuple[ImportDiff, list[_Move], dict[int, Customer]]:
    """The diff of the file against the tenant's accounts, and the moves it asks for."""
    diff = ImportDiff.of(table)
    rows = _unique_rows(table, diff)
    accounts = {
        account_id: (pk, customer_id)
        for account_id, pk, customer_id in CloudAccount.objects.for_tenant(tenant_id)
        .filter(in_values("account_id", [r[1] for r in rows]))
        .values_list("account_id", "pk", "customer_id")
    }
    names = _customers_by_name(tenant_id)
    by_pk = {c.pk: c.company_name for c in names.values() if c is not None}
    moves: list[_Move] = []
    targets: dict[int, Customer] = {}
    for line, account_id, name in rows:
        if account_id not in accounts:
            # A foreign tenant's account reads exactly like one that does not exist.
            diff.error(line, "account_id", f"no account {account_id} in your tenant.")
            continue
        customer = names.get(normalize(name).casefold()) if name else None
        if name and customer is None:
            diff.error(line, "customer", f"no customer named “{name[:200]}” (or more than one).")
            continue
        pk, was = accounts[account_id]
        to = customer.pk if customer else None
        sample = {"line": line, "account_id": account_id, "from": by_pk.get(was or 0, ""), "to": name}
        if to == was:
            diff.add("unchanged", sample)
            continue
        diff.add("created" if was is None else "changed", sample)
        moves.append(_Move(pk, was, to))
        if customer is not None:
            targets[customer.pk] = customer
    return diff, moves, targets


def _apply(actor: Actor, tenant_id: int, moves: list[_Move], targets: dict[int, Customer]) -> None:
    """Lock the moving accounts, refuse if any changed since the plan read them (409), then move
    them, one set_customer per new customer."""
    ids = sorted(m.pk for m in moves)
    read = selection_state((m.pk, m.was) for m in sorted(moves, key=lambda m: m.pk))
    groups: dict[int | None, list[int]] = defaultdict(list)
    for m in moves:
        groups[m.to].append(m.pk)
    with lock_conflicts(CONFLICT), transaction.atomic():
        locked = (
            CloudAccount.objects.for_tenant(tenant_id)
            .filter(in_values("pk", ids))
            .order_by("pk")
            .select_for_update(nowait=True)
            .values_list("pk", "customer_id")
        )
        if selection_state(locked) != read:
            raise ConflictError(CONFLICT)
        now = timezone.now()  # one time for the whole file
        # The moving accounts' open intervals end in one statement, not one per customer (each
        # would look through the intervals the earlier ones opened in this transaction), tested
        # by hashing the ids (PostgreSQL's statistics do not know of those intervals yet).
        ownership_close(tenant_id=tenant_id, account_ids=ids, cause=OwnershipCause.IMPORT, now=now)
        for to, pks in groups.items():
            set_customer(
                actor=actor,
                tenant_id=tenant_id,
                ids=pks,
                customer=targets[to] if to is not None else None,
                action=ACTION,
                cause=OwnershipCause.IMPORT,
                now=now,
                history_closed=True,
            )


def assignments_import(*, actor: Actor, data: bytes, dry_run: bool = True) -> ImportDiff:
    """Read a mapping file (core.csvfiles.csv_read: ValidationError on `file` for a file that
    cannot be read at all) and answer its diff. With `dry_run=False` the changes are made, all
    or nothing: ImportRefused (nothing written) if any line has an error, ConflictError if some
    of the accounts are being changed, or were changed since they were read."""
    tenant = require_tenant_admin(actor)
    table = csv_read(data, required=COLUMNS, max_length=200)
    diff, moves, targets = _plan(tenant.pk, table)
    if dry_run:
        return diff
    if diff.error_count:
        raise ImportRefused(diff)
    if moves:
        _apply(actor, tenant.pk, moves, targets)
    diff.applied = True
    return diff
