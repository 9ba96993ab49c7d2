"""Writes on customers. Every function runs in one transaction with its audit event."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from cloudmsp.audit.services import audit_record, snapshot, update_with_audit
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
