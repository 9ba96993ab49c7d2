"""The cloud app's answers to what the apps below it announce (connected in CloudConfig.ready)."""

from __future__ import annotations

from typing import Any

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.cloud.services.ownership import ownership_customer_deleted
from cloudmsp.cloud.services.rules import rules_deleted_with
from cloudmsp.customers.models import Customer


def release_accounts_of_deleted_customer(*, customer: Customer, actor: Any = None, **_: Any) -> None:
    """A deleted customer's accounts stay in the portal, unassigned: one UPDATE, in the deleting
    transaction, after their ownership intervals end; its assignment rules go, audited."""
    rules_deleted_with(actor=actor, customer=customer)
    ownership_customer_deleted(customer=customer)
    CloudAccount.objects.for_tenant(customer.tenant_id).filter(customer=customer).update(customer=None)
