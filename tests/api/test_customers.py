"""`/api/v1/customers/`: CRUD by tenant administrators, read-only for the customer's own users."""

import pytest

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.models import Customer
from cloudmsp.users.models import User
from tests.api.helpers import assert_error, ids, url
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db

NEW = {"company_name": "Initech", "first_name": "Bill", "last_name": "Lumbergh", "email": "Bill@Initech.example"}
CUSTOMER_KEYS = {
    "id",
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
    "account_count",
    "user_count",
    "created_at",
    "updated_at",
    "version",
}


def test_list_shows_the_tenants_customers_with_counts(admin_api, tenant, customer, foreign):
    CustomerUserFactory(customer=customer)
    CustomerUserFactory(customer=customer)
    CloudAccountFactory(tenant=tenant, customer=customer)
    empty = CustomerFactory(tenant=tenant, company_name="Bare")

    response = admin_api.get(url("customers/"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [customer.pk, empty.pk]
    assert all(set(row) == CUSTOMER_KEYS for row in body["results"])
    acme = body["results"][0]
    assert (acme["company_name"], acme["account_count"], acme["user_count"]) == ("Acme", 1, 2)
    assert (body["results"][1]["account_count"], body["results"][1]["user_count"]) == (0, 0)


def test_search_matches_name_contact_and_email_case_insensitively(admin_api, tenant, foreign):
    a = CustomerFactory(tenant=tenant, company_name="Umbrella", email="alice@umbrella.example")
    b = CustomerFactory(tenant=tenant, company_name="Cyberdyne", last_name="Dyson")
    CustomerFactory(tenant=tenant, company_name="Tyrell")
    CustomerFactory(tenant=foreign.tenant, company_name="Umbrella Abroad")

    assert ids(admin_api.get(url("customers/"), {"search": "UMBREL"})) == [a.pk]
    assert ids(admin_api.get(url("customers/"), {"search": "dyson"})) == [b.pk]
    assert ids(admin_api.get(url("customers/"), {"search": "alice@"})) == [a.pk]
    assert ids(admin_api.get(url("customers/"), {"search": "nothing-like-this"})) == []


def test_ordering_and_unknown_ordering_falls_back_to_company_name(admin_api, tenant):
    b = CustomerFactory(tenant=tenant, company_name="Bravo", email="a@x.example")
    a = CustomerFactory(tenant=tenant, company_name="Alpha", email="c@x.example")
    c = CustomerFactory(tenant=tenant, company_name="Charlie", email="b@x.example")

    assert ids(admin_api.get(url("customers/"), {"ordering": "-company_name"})) == [c.pk, b.pk, a.pk]
    assert ids(admin_api.get(url("customers/"), {"ordering": "email"})) == [b.pk, c.pk, a.pk]
    assert ids(admin_api.get(url("customers/"), {"ordering": "tenant__name"})) == ids(admin_api.get(url("customers/")))


def test_pages(admin_api, tenant):
    created = [CustomerFactory(tenant=tenant, company_name=f"Company {n:02d}") for n in range(7)]

    first = admin_api.get(url("customers/"), {"page_size": 3})
    third = admin_api.get(url("customers/"), {"page_size": 3, "page": 3})

    assert first.json()["count"] == 7
    assert ids(first) == [c.pk for c in created[:3]]
    assert first.json()["next"].endswith("page=2&page_size=3")
    assert first.json()["previous"] is None
    assert ids(third) == [created[6].pk]
    assert third.json()["next"] is None
    assert_error(admin_api.get(url("customers/"), {"page_size": 3, "page": 4}), 404)


def test_page_size_is_capped_at_500(admin_api, tenant):
    Customer.unscoped.bulk_create(
        Customer(tenant=tenant, company_name=f"Bulk {n:03d}", first_name="a", last_name="b", email="c@d.example")
        for n in range(501)
    )
    response = admin_api.get(url("customers/"), {"page_size": 5000})
    assert response.json()["count"] == 501
    assert len(response.json()["results"]) == 500
    assert response.json()["next"] is not None
    default = admin_api.get(url("customers/"))
    assert len(default.json()["results"]) == 50


def test_create(admin_api, admin, tenant):
    body = {**NEW, "city": "Austin", "description": "TPS reports", "account_count": 9, "user_count": 9}

    response = admin_api.post(url("customers/"), body, format="json")

    assert response.status_code == 201
    data = response.json()
    assert set(data) == CUSTOMER_KEYS
    # Read-only counts are ignored on input.
    assert (data["account_count"], data["user_count"]) == (0, 0)
    customer = Customer.objects.for_tenant(tenant).get(pk=data["id"])
    assert (customer.company_name, customer.email, customer.city) == ("Initech", "bill@initech.example", "Austin")
    assert data["email"] == "bill@initech.example"
    event = AuditEvent.objects.for_tenant(tenant).get(action="customer.create")
    assert (event.object_id, event.actor_id) == (str(customer.pk), admin.pk)
    assert event.changes["company_name"] == [None, "Initech"]


def test_required_fields_and_formats(admin_api, tenant):
    response = admin_api.post(url("customers/"), {"phone": "1"}, format="json")
    assert_error(response, 400, "company_name", "first_name", "last_name", "email")
    bad = {**NEW, "email": "not-an-email", "zip_code": "1" * 21}
    assert_error(admin_api.post(url("customers/"), bad, format="json"), 400, "email", "zip_code")
    assert not Customer.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize("name", ["ACME", "acme", "  Acme "])
def test_duplicate_company_name_is_refused_case_insensitively(admin_api, customer, name):
    response = admin_api.post(url("customers/"), {**NEW, "company_name": name}, format="json")
    body = assert_error(response, 400, "company_name")
    assert body["errors"]["company_name"] == ["A customer with this company name already exists."]
    assert Customer.objects.for_tenant(customer.tenant).count() == 1


def test_the_same_company_name_is_fine_in_another_tenant(admin_api, foreign, tenant):
    response = admin_api.post(url("customers/"), {**NEW, "company_name": "foreign co"}, format="json")
    assert response.status_code == 201
    assert Customer.objects.for_tenant(tenant).get().company_name == "foreign co"


def test_retrieve(admin_api, customer):
    CloudAccountFactory(tenant=customer.tenant, customer=customer)
    response = admin_api.get(url(f"customers/{customer.pk}/"))
    assert response.status_code == 200
    assert response.json() == response.json() | {"id": customer.pk, "company_name": "Acme", "account_count": 1}


def test_partial_and_full_update(admin_api, customer):
    response = admin_api.patch(url(f"customers/{customer.pk}/"), {"city": "Paris", "user_count": 40}, format="json")
    assert response.status_code == 200
    assert (response.json()["city"], response.json()["user_count"]) == ("Paris", 0)

    full = {**NEW, "company_name": "Acme Ltd"}
    response = admin_api.put(url(f"customers/{customer.pk}/"), full, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.company_name, customer.first_name, customer.city) == ("Acme Ltd", "Bill", "Paris")
    changes = [e.changes for e in AuditEvent.objects.for_tenant(customer.tenant).filter(action="customer.update")]
    assert {"city": ["", "Paris"]} in changes
    assert any(c.get("company_name") == ["Acme", "Acme Ltd"] for c in changes)


def test_update_to_another_customers_name_is_refused(admin_api, customer):
    other = CustomerFactory(tenant=customer.tenant, company_name="Globex")
    response = admin_api.patch(url(f"customers/{other.pk}/"), {"company_name": "aCME"}, format="json")
    assert_error(response, 400, "company_name")
    other.refresh_from_db()
    assert other.company_name == "Globex"


def test_renaming_only_the_case_of_its_own_name_is_allowed(admin_api, customer):
    response = admin_api.patch(url(f"customers/{customer.pk}/"), {"company_name": "ACME"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.company_name == "ACME"


def test_delete_unassigns_accounts_and_deletes_users(admin_api, customer, customer_user):
    account = CloudAccountFactory(tenant=customer.tenant, customer=customer)
    second_user = CustomerUserFactory(customer=customer)

    response = admin_api.delete(url(f"customers/{customer.pk}/"))

    assert response.status_code == 204
    assert not Customer.unscoped.filter(pk=customer.pk).exists()
    assert not User.unscoped.filter(pk__in=[customer_user.pk, second_user.pk]).exists()
    account.refresh_from_db()
    assert account.customer_id is None
    assert CloudAccount.objects.for_tenant(customer.tenant).count() == 1
    event = AuditEvent.objects.for_tenant(customer.tenant).get(action="customer.delete")
    assert event.changes["users_deleted"] == [2, 0]
    assert event.changes["accounts_unassigned"] == [1, 0]


def test_customer_user_reads_only_its_own_customer(customer_api, customer, foreign):
    sibling = CustomerFactory(tenant=customer.tenant, company_name="Sibling")

    assert ids(customer_api.get(url("customers/"))) == [customer.pk]
    assert ids(customer_api.get(url("customers/"), {"search": "Sibling"})) == []
    assert customer_api.get(url(f"customers/{customer.pk}/")).json()["company_name"] == "Acme"
    assert_error(customer_api.get(url(f"customers/{sibling.pk}/")), 404)
    assert_error(customer_api.get(url(f"customers/{foreign.customer.pk}/")), 404)


def test_customer_user_cannot_write(customer_api, customer):
    assert_error(customer_api.post(url("customers/"), NEW, format="json"), 403)
    assert_error(customer_api.patch(url(f"customers/{customer.pk}/"), {"city": "Rome"}, format="json"), 403)
    assert_error(customer_api.put(url(f"customers/{customer.pk}/"), NEW, format="json"), 403)
    assert_error(customer_api.delete(url(f"customers/{customer.pk}/")), 403)

    customer.refresh_from_db()
    assert (customer.company_name, customer.city) == ("Acme", "")
    assert Customer.objects.for_tenant(customer.tenant).count() == 1
    assert not AuditEvent.objects.for_tenant(customer.tenant).filter(outcome="success").exists()
    assert AuditEvent.objects.for_tenant(customer.tenant).filter(outcome="denied").count() == 4


def test_sysadmin_sees_no_customers(sysadmin_api, customer):
    assert_error(sysadmin_api.get(url("customers/")), 403)
    assert_error(sysadmin_api.get(url(f"customers/{customer.pk}/")), 403)
    assert_error(sysadmin_api.post(url("customers/"), NEW, format="json"), 403)


def test_foreign_customers_are_404_and_untouched(admin_api, foreign):
    pk = foreign.customer.pk
    assert pk not in ids(admin_api.get(url("customers/")))
    assert_error(admin_api.get(url(f"customers/{pk}/")), 404)
    assert_error(admin_api.patch(url(f"customers/{pk}/"), {"city": "Oslo"}, format="json"), 404)
    assert_error(admin_api.put(url(f"customers/{pk}/"), NEW, format="json"), 404)
    assert_error(admin_api.delete(url(f"customers/{pk}/")), 404)
    foreign.customer.refresh_from_db()
    assert (foreign.customer.company_name, foreign.customer.city) == ("Foreign Co", "")
    assert User.unscoped.filter(pk=foreign.customer_user.pk).exists()
