"""cloudmsp.tenants.selectors: the system administrator's list of tenants, with counts only."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cloudmsp.core.errors import NotFound, PermissionDenied
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenants.selectors import tenant_get_listed, tenant_list
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _names(qs) -> list[str]:
    return [t.name for t in qs]


def _populated(name: str, *, admins: int, customers: int, customer_users: int, accounts: int) -> Tenant:
    tenant = TenantFactory(name=name)
    UserFactory.create_batch(admins, tenant=tenant)
    made = CustomerFactory.create_batch(customers, tenant=tenant)
    for n in range(customer_users):
        CustomerUserFactory(customer=made[n % len(made)])
    CloudAccountFactory.create_batch(accounts, tenant=tenant)
    return tenant


def test_list_counts_users_customers_and_accounts_of_each_tenant(sysadmin):
    _populated("Busy", admins=2, customers=3, customer_users=4, accounts=5)
    _populated("Quiet", admins=1, customers=1, customer_users=0, accounts=0)
    TenantFactory(name="Empty")
    counts = {t.name: (t.user_count, t.customer_count, t.account_count) for t in tenant_list(actor=sysadmin)}
    # The system administrator, in no tenant, is counted for none.
    assert counts == {"Busy": (6, 3, 5), "Quiet": (1, 1, 0), "Empty": (0, 0, 0)}


def test_only_a_system_administrator_lists_tenants(admin, customer_user):
    for actor in (admin, customer_user, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            tenant_list(actor=actor)


@pytest.mark.parametrize(
    ("search", "expected"),
    [("msp", ["Blue MSP", "Red msp"]), ("  RED ", ["Red msp"]), ("", ["Blue MSP", "Green", "Red msp"]), ("z", [])],
)
def test_list_search_by_name(sysadmin, search, expected):
    for name in ("Red msp", "Green", "Blue MSP"):
        TenantFactory(name=name)
    assert _names(tenant_list(actor=sysadmin, search=search)) == expected


def test_list_orderings_and_the_fallback(sysadmin):
    now = timezone.now()
    for name, days_ago in (("Bravo", 1), ("Alpha", 0), ("Charlie", 2)):
        tenant = TenantFactory(name=name)
        Tenant.objects.filter(pk=tenant.pk).update(created_at=now - timedelta(days=days_ago))
    assert _names(tenant_list(actor=sysadmin)) == ["Alpha", "Bravo", "Charlie"]
    assert _names(tenant_list(actor=sysadmin, ordering="-name")) == ["Charlie", "Bravo", "Alpha"]
    assert _names(tenant_list(actor=sysadmin, ordering="created_at")) == ["Charlie", "Bravo", "Alpha"]
    assert _names(tenant_list(actor=sysadmin, ordering="-created_at")) == ["Alpha", "Bravo", "Charlie"]
    assert _names(tenant_list(actor=sysadmin, ordering="user_count")) == ["Alpha", "Bravo", "Charlie"]


def test_list_with_counts_is_one_query_however_many_tenants(sysadmin, django_assert_num_queries):
    for n in range(4):
        _populated(f"T{n}", admins=1, customers=2, customer_users=1, accounts=3)
    with django_assert_num_queries(1):
        rows = [(t.user_count, t.customer_count, t.account_count) for t in tenant_list(actor=sysadmin)]
    assert rows == [(2, 2, 3)] * 4


def test_get_listed_has_the_counts_of_the_list(sysadmin):
    tenant = _populated("Busy", admins=1, customers=2, customer_users=2, accounts=1)
    TenantFactory(name="Other")
    got = tenant_get_listed(actor=sysadmin, tenant_id=str(tenant.pk))
    assert (got, got.user_count, got.customer_count, got.account_count) == (tenant, 3, 2, 1)


def test_get_listed_only_for_a_system_administrator(admin, tenant):
    with pytest.raises(PermissionDenied):
        tenant_get_listed(actor=admin, tenant_id=tenant.pk)


@pytest.mark.parametrize("raw", ["missing", "abc", "", "0", "-2", None, True, 2**63], ids=repr)
def test_get_listed_of_a_missing_or_malformed_id_is_not_found(sysadmin, tenant, raw):
    tenant_id = tenant.pk + 1000 if raw == "missing" else raw
    with pytest.raises(NotFound) as exc:
        tenant_get_listed(actor=sysadmin, tenant_id=tenant_id)
    assert exc.value.message == "Tenant not found."


def test_get_listed_is_one_query(sysadmin, tenant, django_assert_num_queries):
    with django_assert_num_queries(1):
        got = tenant_get_listed(actor=sysadmin, tenant_id=tenant.pk)
        assert (got.user_count, got.customer_count, got.account_count) == (0, 0, 0)
