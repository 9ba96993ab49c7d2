import pytest
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_sysadmin_creates_tenant_then_its_administrator(sysadmin_client):
    response = sysadmin_client.post(reverse("tenants:create"), {"name": "Blue MSP"}, **HTMX)
    assert response.status_code == 200
    tenant = Tenant.objects.get(name="Blue MSP")
    assert "Now create its administrator" in response.content.decode()
    created = sysadmin_client.post(
        reverse("tenants:admin_create", kwargs={"tenant_id": tenant.pk}),
        {"email": "boss@blue.test", "first_name": "B", "last_name": "Oss"},
        **HTMX,
    )
    assert created.status_code == 200
    assert "/activate/" in created.content.decode()
    boss = User.unscoped.get(email="boss@blue.test")
    assert (boss.role, boss.tenant_id) == (Role.TENANT_ADMIN, tenant.pk)
    # Installation-level events are kept without a tenant.
    assert AuditEvent.unscoped.filter(action="tenant.create", tenant=None, object_id=str(tenant.pk)).exists()


def test_tenant_list_shows_names_and_counts_only(sysadmin_client):
    customer = CustomerFactory(company_name="Secret Customer Name")
    html = sysadmin_client.get(reverse("tenants:list")).content.decode()
    assert customer.tenant.name in html
    assert "Secret Customer Name" not in html


def test_duplicate_tenant_name_is_refused_next_to_the_field(sysadmin_client):
    Tenant.objects.create(name="Taken")
    response = sysadmin_client.post(reverse("tenants:create"), {"name": "TAKEN"}, **HTMX)
    assert response.status_code == 422
    assert "A tenant with this name already exists." in response.content.decode()


def test_disable_tenant_blocks_its_users(sysadmin_client, admin, client_for):
    client = client_for(admin)
    assert client.get(reverse("customers:list")).status_code == 200
    sysadmin_client.post(
        reverse("tenants:edit", kwargs={"tenant_id": admin.tenant_id}), {"name": admin.tenant.name}, **HTMX
    )  # is_active unchecked
    admin.tenant.refresh_from_db()
    assert not admin.tenant.is_active
    assert client.get(reverse("customers:list")).status_code == 302


def test_delete_tenant_confirmation_and_cascade(sysadmin_client):
    customer = CustomerFactory()
    UserFactory(tenant=customer.tenant)
    url = reverse("tenants:delete", kwargs={"tenant_id": customer.tenant_id})
    confirm = sysadmin_client.get(url, **HTMX).content.decode()
    assert "1 user(s), 1 customer(s)" in confirm
    sysadmin_client.post(url, **HTMX)
    assert not Tenant.objects.filter(pk=customer.tenant_id).exists()
    assert not User.unscoped.filter(tenant_id=customer.tenant_id).exists()


def test_tenant_admin_cannot_reach_system_pages(admin_client, admin):
    assert admin_client.get(reverse("tenants:list")).status_code == 403
    assert admin_client.get(reverse("tenants:admin_list", kwargs={"tenant_id": admin.tenant_id})).status_code == 403
    assert AuditEvent.objects.for_tenant(admin.tenant).filter(outcome="denied").count() == 2
