"""cloudmsp.tenancy.selectors: a tenant by id, for a system administrator only."""

import pytest
from django.contrib.auth.models import AnonymousUser

from cloudmsp.core.errors import NotFound, PermissionDenied
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.selectors import tenant_get
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_sysadmin_gets_any_tenant_by_id(sysadmin, tenant):
    other = TenantFactory()
    assert tenant_get(actor=sysadmin, tenant_id=tenant.pk) == tenant
    assert tenant_get(actor=sysadmin, tenant_id=str(other.pk)) == other


def test_nobody_else_gets_a_tenant_not_even_their_own(admin, customer_user, tenant):
    for actor in (admin, customer_user, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            tenant_get(actor=actor, tenant_id=tenant.pk)


def test_refusal_comes_before_the_lookup(admin, django_assert_num_queries):
    """A tenant administrator learns nothing about which ids exist: the same refusal for all."""
    with django_assert_num_queries(0), pytest.raises(PermissionDenied):
        tenant_get(actor=admin, tenant_id=10**9)


def test_missing_tenant_is_not_found(sysadmin, tenant):
    with pytest.raises(NotFound) as exc:
        tenant_get(actor=sysadmin, tenant_id=tenant.pk + 1000)
    assert exc.value.message == "Tenant not found."
    assert exc.value.extra == {"target": f"Tenant #{tenant.pk + 1000}"}


def test_a_deleted_tenant_is_not_found(sysadmin):
    tenant = TenantFactory()
    pk = tenant.pk
    Tenant.objects.filter(pk=pk).delete()
    with pytest.raises(NotFound):
        tenant_get(actor=sysadmin, tenant_id=pk)


@pytest.mark.parametrize(
    "raw", ["abc", "", "0", "-1", "1.0", " 1", "1 ", "\uff11", None, False, True, 0, -3, 2**63, "9" * 30], ids=repr
)
def test_malformed_ids_are_not_found_without_a_query(sysadmin, tenant, raw, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(NotFound) as exc:
        tenant_get(actor=sysadmin, tenant_id=raw)
    assert exc.value.message == "Tenant not found."


def test_the_target_of_a_long_id_is_cut_short(sysadmin):
    with pytest.raises(NotFound) as exc:
        tenant_get(actor=sysadmin, tenant_id="x" * 500)
    assert exc.value.extra["target"] == "Tenant #" + "x" * 40


def test_get_is_one_query(sysadmin, tenant, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert tenant_get(actor=sysadmin, tenant_id=tenant.pk).name == "Home MSP"
