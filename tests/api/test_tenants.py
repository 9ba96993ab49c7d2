"""`/api/v1/tenants/`: system administrators only, names and counts only."""

import pytest

from cloudmsp.audit.models import AuditEvent
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.users.models import User
from tests.api.helpers import assert_error, url
from tests.factories import CloudAccountFactory, CustomerFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

TENANT_KEYS = {
    "id",
    "name",
    "is_active",
    "require_admin_2fa",
    "user_count",
    "customer_count",
    "account_count",
    "created_at",
    "version",
}


def test_list_shows_names_and_counts_only(sysadmin_api, tenant, admin, customer, customer_user):
    CloudAccountFactory(tenant=tenant, customer=customer)
    CloudAccountFactory(tenant=tenant)
    empty = TenantFactory(name="Empty MSP")

    response = sysadmin_api.get(url("tenants/"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = {row["name"]: row for row in body["results"]}
    assert all(set(row) == TENANT_KEYS for row in body["results"])
    assert rows["Home MSP"] == rows["Home MSP"] | {
        "id": tenant.pk,
        "is_active": True,
        "user_count": 2,
        "customer_count": 1,
        "account_count": 2,
    }
    assert rows["Empty MSP"] == rows["Empty MSP"] | {
        "id": empty.pk,
        "user_count": 0,
        "customer_count": 0,
        "account_count": 0,
    }


def test_list_search_and_ordering(sysadmin_api):
    for name in ("Beta", "Alpha", "Gamma"):
        TenantFactory(name=name)
    names = [row["name"] for row in sysadmin_api.get(url("tenants/"), {"ordering": "-name"}).json()["results"]]
    assert names == ["Gamma", "Beta", "Alpha"]
    found = sysadmin_api.get(url("tenants/"), {"search": "ALP"}).json()["results"]
    assert [row["name"] for row in found] == ["Alpha"]


def test_create_records_an_installation_level_event(sysadmin_api, sysadmin):
    response = sysadmin_api.post(url("tenants/"), {"name": "  New MSP  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == TENANT_KEYS
    assert body["name"] == "New MSP"
    assert body["is_active"] is True
    assert body["user_count"] == body["customer_count"] == body["account_count"] == 0
    tenant = Tenant.objects.get(pk=body["id"])
    assert tenant.name == "New MSP"
    event = AuditEvent.unscoped.get(action="tenant.create", object_id=str(tenant.pk))
    assert event.tenant_id is None
    assert event.actor_id == sysadmin.pk


def test_create_disabled(sysadmin_api):
    response = sysadmin_api.post(url("tenants/"), {"name": "Later MSP", "is_active": False}, format="json")
    assert response.status_code == 201
    assert response.json()["is_active"] is False
    assert Tenant.objects.get(name="Later MSP").is_active is False


@pytest.mark.parametrize(
    "body",
    [{"name": "home msp"}, {"name": ""}, {"name": "   "}, {}, {"name": "x" * 201}, {"name": "Bad\u202ename"}],
)
def test_create_refuses_bad_or_duplicate_names(sysadmin_api, tenant, body):
    assert_error(sysadmin_api.post(url("tenants/"), body, format="json"), 400, "name")
    assert list(Tenant.objects.values_list("name", flat=True)) == ["Home MSP"]


def test_retrieve(sysadmin_api, tenant, admin):
    response = sysadmin_api.get(url(f"tenants/{tenant.pk}/"))
    assert response.status_code == 200
    assert response.json() == response.json() | {"id": tenant.pk, "name": "Home MSP", "user_count": 1}


def test_rename_and_disable(sysadmin_api, tenant):
    response = sysadmin_api.patch(url(f"tenants/{tenant.pk}/"), {"name": "Renamed MSP"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed MSP"
    response = sysadmin_api.put(
        url(f"tenants/{tenant.pk}/"), {"name": "Renamed MSP", "is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    tenant.refresh_from_db()
    assert (tenant.name, tenant.is_active) == ("Renamed MSP", False)
    changes = [e.changes for e in AuditEvent.unscoped.filter(action="tenant.update").order_by("id")]
    assert changes == [{"name": ["Home MSP", "Renamed MSP"]}, {"is_active": [True, False]}]


def test_rename_to_an_existing_name_is_refused(sysadmin_api, tenant):
    other = TenantFactory(name="Other MSP")
    assert_error(sysadmin_api.patch(url(f"tenants/{other.pk}/"), {"name": "HOME msp"}, format="json"), 400, "name")
    other.refresh_from_db()
    assert other.name == "Other MSP"


def test_delete_removes_everything_in_the_tenant_but_keeps_the_event(sysadmin_api, tenant, admin, customer_user):
    CloudAccountFactory(tenant=tenant)
    keep = CustomerFactory(company_name="Kept")

    response = sysadmin_api.delete(url(f"tenants/{tenant.pk}/"))

    assert response.status_code == 204
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not User.unscoped.filter(pk__in=[admin.pk, customer_user.pk]).exists()
    assert list(Customer.unscoped.all()) == [keep]
    event = AuditEvent.unscoped.get(action="tenant.delete")
    assert (event.tenant_id, event.object_id, event.changes) == (None, str(tenant.pk), {"name": ["Home MSP", None]})


def test_unknown_id_is_404(sysadmin_api):
    assert_error(sysadmin_api.get(url("tenants/987654/")), 404)
    assert_error(sysadmin_api.patch(url("tenants/987654/"), {"name": "x"}, format="json"), 404)
    assert_error(sysadmin_api.delete(url("tenants/987654/")), 404)


@pytest.mark.parametrize("who", ["admin", "customer_user"])
def test_everyone_but_the_sysadmin_is_refused(api_for, request, tenant, who):
    client = api_for(request.getfixturevalue(who))
    other = TenantFactory(name="Other MSP")
    UserFactory(tenant=other)

    assert_error(client.get(url("tenants/")), 403)
    assert_error(client.get(url(f"tenants/{tenant.pk}/")), 403)
    assert_error(client.post(url("tenants/"), {"name": "Sneaky"}, format="json"), 403)
    assert_error(client.patch(url(f"tenants/{other.pk}/"), {"is_active": False}, format="json"), 403)
    assert_error(client.delete(url(f"tenants/{other.pk}/")), 403)

    assert sorted(Tenant.objects.values_list("name", "is_active")) == [("Home MSP", True), ("Other MSP", True)]
    assert not AuditEvent.unscoped.filter(action__startswith="tenant.").exists()
    denied = AuditEvent.objects.for_tenant(tenant).filter(outcome="denied")
    assert denied.count() == 5
