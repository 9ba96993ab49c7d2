"""Writes on customers. Every function runs in one transaction with its audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cloudmsp.audit.services import AuditEntry, audit_record, audit_record_many, snapshot, update_with_audit
from cloudmsp.core.csvfiles import CsvTable, ImportDiff, ImportRefused, csv_read
from cloudmsp.core.text import normalize
from cloudmsp.core.validation import save_or_conflict, validate_model
from cloudmsp.customers.models import Customer
from cloudmsp.customers.signals import customer_deleting
from cloudmsp.tenancy.access import Actor, require_tenant_admin

CUSTOMER_FIELDS = (
    "company_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "state",
    "city",
    "address",
    "address2",
    "zip_code",
    "description",
)
_DUPLICATE = "A customer with this company name already exists."
_FIELD_FOR_CODE = {"duplicate_company_name": "company_name"}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key in CUSTOMER_FIELDS:
        if key in data and data[key] is not None:
            value = normalize(str(data[key]))
            out[key] = value.lower() if key == "email" else value
    return out


def customer_create(
    *,
    actor: Actor,
    company_name: str,
    first_name: str,
    last_name: str,
    email: str,
    **optional: str,
) -> Customer:
    """Create a customer in the actor's tenant. Raises ValidationError (per field) on bad input,
    including a company name already used in the tenant (compared case-insensitively)."""
    tenant = require_tenant_admin(actor)
    unknown = set(optional) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    data = _clean(
        {
            "company_name": company_name,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            **optional,
        }
    )
    customer = Customer(tenant=tenant, **data)
    validate_model(customer, field_for_code=_FIELD_FOR_CODE)
    with transaction.atomic():
        save_or_conflict(customer.save, field="company_name", message=_DUPLICATE)
        audit_record(
            actor=actor,
            action="customer.create",
            obj=customer,
            changes={k: [None, v] for k, v in snapshot(customer, CUSTOMER_FIELDS).items() if v},
        )
    return customer


def customer_update(*, actor: Actor, customer: Customer, data: dict[str, Any]) -> Customer:
    """Change the given fields of a customer (fields not in `data` keep their value)."""
    require_tenant_admin(actor)
    update_with_audit(
        actor=actor,
        obj=customer,
        values=_clean(data),
        fields=CUSTOMER_FIELDS,
        action="customer.update",
        field_for_code=_FIELD_FOR_CODE,
        unique_field="company_name",
        duplicate_message=_DUPLICATE,
    )
    return customer


def customer_delete_impact(*, customer: Customer) -> dict[str, int]:
    """What goes with a customer: its users are deleted, its accounts become unassigned."""
    return {
        "users": customer.users.count(),
        "accounts": customer.cloud_accounts.count(),
    }


def customer_delete(*, actor: Actor, customer: Customer) -> dict[str, int]:
    """Delete a customer and its users; its cloud accounts stay, unassigned."""
    require_tenant_admin(actor)
    with transaction.atomic():
        impact = customer_delete_impact(customer=customer)
        # The accounts' app releases them (cloud.receivers), in this transaction.
        customer_deleting.send(sender=Customer, customer=customer, actor=actor)
        audit_record(
            actor=actor,
            action="customer.delete",
            obj=customer,
            changes={
                "company_name": [customer.company_name, None],
                "users_deleted": [impact["users"], 0],
                "accounts_unassigned": [impact["accounts"], 0],
            },
        )
        customer.delete()
    return impact


# Import (SPEC 10) ------------------------------------------------------------------------------

#: Columns of the customers export that an import reads back and leaves alone.
IMPORT_IGNORED = ("account_count", "user_count")
IMPORT_BATCH = 1000


def _import_values(cells: dict[str, str]) -> dict[str, str]:
    """The row's values to set: its non-empty cells (an empty cell leaves a field as it is)."""
    return _clean({k: v for k, v in cells.items() if k in CUSTOMER_FIELDS and v})


def _import_row(
    diff: ImportDiff, line: int, customer: Customer, values: dict[str, str], creating: bool
) -> dict[str, list[Any]] | None:
    """Check `customer` with `values` set (no query: uniqueness is the import's own check);
    the changes made, or None with the errors added to `diff`."""
    before = snapshot(customer, values) if not creating else {}
    for key, value in values.items():
        setattr(customer, key, value)
    try:
        # The tenant is the actor's (no check of its row per line); uniqueness is the import's own check.
        customer.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            diff.error(line, field, messages[0])
        return None
    return {k: [before.get(k), v] for k, v in values.items() if before.get(k) != v}


def _import_plan(tenant: Any, table: CsvTable) -> tuple[ImportDiff, list[Customer], list[tuple[Customer, Any]]]:
    diff = ImportDiff.of(table)
    existing = {normalize(c.company_name).casefold(): c for c in Customer.objects.for_tenant(tenant)}
    first_line: dict[str, int] = {}
    created: list[Customer] = []
    changed: list[tuple[Customer, Any]] = []
    for line, cells in table.rows:
        values = _import_values(cells)
        key = values.get("company_name", "").casefold()
        if not key:
            diff.error(line, "company_name", "a company name is required.")
            continue
        if key in first_line:
            diff.error(line, "company_name", f"“{values['company_name'][:200]}” is already on line {first_line[key]}.")
            continue
        first_line[key] = line
        customer = existing.get(key) or Customer(tenant=tenant)
        if customer.pk:
            values.pop("company_name")  # matched by name: the stored spelling stays
        changes = _import_row(diff, line, customer, values, creating=customer.pk is None)
        if changes is None:
            continue
        sample = {"line": line, "company_name": customer.company_name, "changes": changes}
        if customer.pk is None:
            diff.add("created", sample)
            created.append(customer)
        elif changes:
            diff.add("changed", sample)
            changed.append((customer, changes))
        else:
            diff.add("unchanged", sample)
    return diff, created, changed


def _import_apply(actor: Actor, tenant: Any, created: list[Customer], changed: list[tuple[Customer, Any]]) -> None:
    with transaction.atomic():
        save_or_conflict(
            lambda: Customer.unscoped.bulk_create(created, batch_size=IMPORT_BATCH),
            field="file",
            message="Someone else has just created one of these customers; nothing was changed. Try again.",
        )
        fields = sorted({k for _, changes in changed for k in changes})
        if changed:
            Customer.unscoped.bulk_update([c for c, _ in changed], [*fields, "updated_at"], batch_size=IMPORT_BATCH)
        audit_record_many(
            actor=actor,
            action="customer.import",
            tenant_id=tenant.pk,
            entries=[
                *(
                    AuditEntry(obj=c, changes={k: [None, v] for k, v in snapshot(c, CUSTOMER_FIELDS).items() if v})
                    for c in created
                ),
                *(AuditEntry(obj=c, changes=changes) for c, changes in changed),
            ],
        )


def customers_import(*, actor: Actor, data: bytes, dry_run: bool = True) -> ImportDiff:
    """Create and update customers from a CSV file (core.csvfiles.csv_read; ValidationError on
    `file` for a file that cannot be read). Rows are matched to customers by company name,
    case-insensitively; a new customer needs the fields a customer requires (company name,
    first and last name, email); an empty cell leaves a field as it is. With `dry_run=False`
    the changes are made, all or nothing: ImportRefused (nothing written) if any line has an
    error. A fixed number of statements per thousand rows, audit events included."""
    tenant = require_tenant_admin(actor)
    table = csv_read(data, required=("company_name",), optional=(*CUSTOMER_FIELDS[1:], *IMPORT_IGNORED))
    diff, created, changed = _import_plan(tenant, table)
    if dry_run:
        return diff
    if diff.error_count:
        raise ImportRefused(diff)
    now = timezone.now()
    for customer, _ in changed:
        customer.updated_at = now
    _import_apply(actor, tenant, created, changed)
    diff.applied = True
    return diff
