"""`version` in the API: read it with the object, send it back with PUT/PATCH, and an update of
something someone else changed since is refused with 409 instead of overwriting their change."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cloudmsp.audit.models import AuditEvent
from cloudmsp.customers.models import Customer
from cloudmsp.customers.services import customer_update
from tests.api.helpers import assert_error, url
from tests.factories import CustomerFactory, CustomerUserFactory, SysadminFactory, TenantFactory, UserFactory
from tests.figures import FIGURES
from tests.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(admin, customer):
    """(caller, path, field, new value) for each editable resource."""
    cuser = CustomerUserFactory(customer=customer)
    return {
        "customer": (admin, f"customers/{customer.pk}/", "company_name", "Acme API"),
        "user": (admin, f"users/{cuser.pk}/", "first_name", "Api"),
        "tenant": (SysadminFactory(), f"tenants/{admin.tenant_id}/", "name", "Home MSP API"),
    }


@pytest.mark.parametrize("kind", ["customer", "user", "tenant"])
def test_stale_version_is_refused_with_409(api_for, objects, kind):
    caller, path, field, value = objects[kind]
    client = api_for(caller)
    read = client.get(url(path)).json()
    version = read["version"]
    assert version
    # Someone else changes it first (sending the version they read, too).
    assert client.patch(url(path), {field: value + " first", "version": version}, format="json").status_code == 200

    response = client.patch(url(path), {field: value, "version": version}, format="json")

    body = assert_error(response, 409)
    assert body["detail"].startswith("Someone else changed this")
    assert client.get(url(path)).json()[field] == value + " first"


@pytest.mark.parametrize("kind", ["customer", "user", "tenant"])
def test_current_version_saves_and_comes_back_new(api_for, objects, kind):
    caller, path, field, value = objects[kind]
    client = api_for(caller)
    version = client.get(url(path)).json()["version"]
    response = client.patch(url(path), {field: value, "version": version}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()[field] == value
    assert response.json()["version"] != version


def test_put_with_a_stale_version_is_refused(admin_api, customer):
    read = admin_api.get(url(f"customers/{customer.pk}/")).json()
    customer_update(
        actor=customer.tenant.users.first() or UserFactory(tenant=customer.tenant),
        customer=customer,
        data={"city": "Meanwhile"},
    )
    body = {k: read[k] for k in ("company_name", "first_name", "last_name", "email")}
    response = admin_api.put(
        url(f"customers/{customer.pk}/"), {**body, "city": "Mine", "version": read["version"]}, format="json"
    )
    assert_error(response, 409)
    customer.refresh_from_db()
    assert customer.city == "Meanwhile"


def test_without_a_version_the_update_applies(admin_api, customer):
    customer_update(actor=UserFactory(tenant=customer.tenant), customer=customer, data={"city": "Meanwhile"})
    response = admin_api.patch(url(f"customers/{customer.pk}/"), {"city": "Mine"}, format="json")
    assert response.status_code == 200
    assert response.json()["city"] == "Mine"


@pytest.mark.parametrize("bad", ["", "yesterday", 12, None, ["x"], "2020-01-01T00:00:00"])
def test_a_version_that_is_not_one_is_a_400(admin_api, customer, bad):
    response = admin_api.patch(url(f"customers/{customer.pk}/"), {"city": "Mine", "version": bad}, format="json")
    assert_error(response, 400, "version")


def test_version_sent_on_create_is_ignored(admin_api):
    response = admin_api.post(
        url("customers/"),
        {
            "company_name": "New Co",
            "first_name": "A",
            "last_name": "B",
            "email": "a@new.test",
            "version": "2020-01-01T00:00:00+00:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def test_schema_documents_version_and_409(admin_api):
    schema = admin_api.get(url("schema/"), HTTP_ACCEPT="application/json").json()
    for name in ("Customer", "User", "Tenant"):
        assert "version" in schema["components"]["schemas"][name]["properties"], name
    assert (
        "send it back unchanged"
        in schema["components"]["schemas"]["PatchedCustomerRequest"]["properties"]["version"]["description"].lower()
    )
    for path in ("/api/v1/customers/{id}/", "/api/v1/users/{id}/", "/api/v1/tenants/{id}/"):
        for method in ("put", "patch"):
            assert "409" in schema["paths"][path][method]["responses"], (path, method)


# Two administrators saving the same customer at the same moment ------------------------------

ROUNDS = 20


@pytest.mark.django_db(transaction=True)
def test_simultaneous_edits_of_one_version_one_wins(threads_db):
    tenant = TenantFactory()
    admins = [UserFactory(tenant=tenant, email=f"editor{i}@msp.test") for i in range(2)]
    customer = CustomerFactory(tenant=tenant, company_name="Race Co")
    clients = []
    for admin in admins:
        client = APIClient()
        client.force_authenticate(admin)
        clients.append(client)
    refused = 0
    for n in range(ROUNDS):
        version = clients[0].get(url(f"customers/{customer.pk}/")).json()["version"]
        saves = [
            partial(
                clients[i].patch,
                url(f"customers/{customer.pk}/"),
                {"city": f"city {n} by {i}", "version": version},
                format="json",
            )
            for i in range(2)
        ]
        statuses = [r.status_code for r in run_together(*saves)]
        assert sorted(statuses) == [200, 409], (n, statuses)
        winner = statuses.index(200)
        customer.refresh_from_db()
        assert customer.city == f"city {n} by {winner}"
        last = (
            AuditEvent.objects.for_tenant(tenant).filter(action="customer.update", object_id=str(customer.pk)).first()
        )
        assert last is not None
        assert last.changes["city"][1] == customer.city
        refused += 1
    assert Customer.objects.for_tenant(tenant).get(pk=customer.pk).city.startswith(f"city {ROUNDS - 1} ")
    FIGURES[f"simultaneous customer edits run ({connection.vendor})"] += ROUNDS
    FIGURES[f"simultaneous customer edits refused with 409 ({connection.vendor})"] += refused
