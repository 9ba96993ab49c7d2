from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.users.models import User
from tests.factories import CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory


@pytest.fixture
def anon() -> APIClient:
    """An API client with no credentials."""
    return APIClient()


@pytest.fixture
def admin_api(api_for, admin) -> APIClient:
    return api_for(admin)


@pytest.fixture
def sysadmin_api(api_for, sysadmin) -> APIClient:
    return api_for(sysadmin)


@pytest.fixture
def customer_api(api_for, customer_user) -> APIClient:
    return api_for(customer_user)


@dataclass
class Foreign:
    """Another MSP with rows of every kind, which the home tenant must never reach."""

    tenant: Tenant
    admin: User
    customer: Customer
    customer_user: User


@pytest.fixture
def foreign() -> Foreign:
    tenant = TenantFactory(name="Other MSP")
    customer = CustomerFactory(tenant=tenant, company_name="Foreign Co")
    return Foreign(
        tenant=tenant,
        admin=UserFactory(tenant=tenant, email="admin@other.test"),
        customer=customer,
        customer_user=CustomerUserFactory(customer=customer, email="user@foreign.test"),
    )
