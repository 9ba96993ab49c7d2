from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CustomerFactory, CustomerUserFactory, SysadminFactory, TenantFactory, UserFactory


@pytest.fixture
def tenant():
    return TenantFactory(name="Home MSP")


@pytest.fixture
def admin(tenant):
    return UserFactory(tenant=tenant, email="admin@home.test")


@pytest.fixture
def sysadmin():
    return SysadminFactory(email="root@install.test")


@pytest.fixture
def customer(tenant):
    return CustomerFactory(tenant=tenant, company_name="Acme")


@pytest.fixture
def customer_user(customer):
    return CustomerUserFactory(customer=customer, email="user@acme.test")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for():
    """client_for(user) -> a Django test client signed in as that user."""
    return _client_for


@pytest.fixture
def admin_client(admin) -> Client:
    return _client_for(admin)


@pytest.fixture
def sysadmin_client(sysadmin) -> Client:
    return _client_for(sysadmin)


@pytest.fixture
def api_for():
    """api_for(user) -> a DRF APIClient authenticated as that user (forced, no token)."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
