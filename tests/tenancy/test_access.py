import pytest

from cloudmsp.core.errors import PermissionDenied
from cloudmsp.tenancy.access import actor_of, in_tenant
from tests.factories import CustomerFactory, TenantFactory, UserFactory


@pytest.mark.django_db
def test_in_tenant_tells_an_object_of_the_tenant_from_a_foreign_one():
    home, other = TenantFactory(), TenantFactory()
    assert in_tenant(CustomerFactory(tenant=home), home)
    assert not in_tenant(CustomerFactory(tenant=other), home)
    assert not in_tenant(object(), home)  # nothing tenant-owned about it


@pytest.mark.django_db
def test_actor_of_refuses_an_anonymous_visitor_and_passes_a_user():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        actor_of(AnonymousUser())
    user = UserFactory()
    assert actor_of(user) is user
