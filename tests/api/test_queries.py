"""Each list endpoint runs a fixed number of queries whatever the page holds: 5 rows or 40.

The pinned counts are for a forced-authenticated client: the page count and the page itself
(counts of related rows are subqueries, related objects are joined), plus the lookup of a filter's
object. A token adds its own lookup, the same for every list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.services import audit_record
from tests.api.helpers import url
from tests.factories import (
    PASSWORD,
    CloudAccountFactory,
    CustomerFactory,
    CustomerUserFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SIZES = [5, 40]


def make_customers(tenant, n):
    for _ in range(n):
        customer = CustomerFactory(tenant=tenant)
        CustomerUserFactory(customer=customer)
        CloudAccountFactory(tenant=tenant, customer=customer)


def make_users(tenant, n):
    for _ in range(n):
        CustomerUserFactory(customer=CustomerFactory(tenant=tenant))


def make_events(admin, n):
    for i in range(n):
        audit_record(actor=admin, action="customer.update", object_type="customer", object_id=i, changes={"a": [1, 2]})


def make_tenants(n):
    for _ in range(n):
        tenant = TenantFactory()
        UserFactory(tenant=tenant)
        CustomerFactory(tenant=tenant)


def get_page(client, path, rows):
    response = client.get(url(path), {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    return response


@pytest.mark.parametrize("rows", SIZES)
def test_customers_list(admin_api, admin, tenant, rows, django_assert_num_queries):
    make_customers(tenant, rows)
    with django_assert_num_queries(2):
        get_page(admin_api, "customers/", rows)


@pytest.mark.parametrize("rows", SIZES)
def test_customers_list_for_a_customer_user(api_for, customer_user, rows, django_assert_num_queries):
    CustomerUserFactory.create_batch(rows - 1, customer=customer_user.customer)
    CloudAccountFactory.create_batch(rows, tenant=customer_user.tenant, customer=customer_user.customer)
    client = api_for(customer_user)
    with django_assert_num_queries(2):
        response = get_page(client, "customers/", 1)
    assert response.json()["results"][0]["user_count"] == rows
    assert response.json()["results"][0]["account_count"] == rows


@pytest.mark.parametrize("rows", SIZES)
def test_users_list(admin_api, admin, tenant, rows, django_assert_num_queries):
    make_users(tenant, rows - 1)
    with django_assert_num_queries(2):
        get_page(admin_api, "users/", rows)


@pytest.mark.parametrize("rows", SIZES)
def test_users_list_filtered_by_customer(admin_api, customer, rows, django_assert_num_queries):
    CustomerUserFactory.create_batch(rows, customer=customer)
    with django_assert_num_queries(3):
        response = admin_api.get(url("users/"), {"page_size": 100, "customer": customer.pk, "role": "customer_user"})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", SIZES)
def test_users_list_for_the_sysadmin(sysadmin_api, rows, django_assert_num_queries):
    make_tenants(rows)
    with django_assert_num_queries(2):
        get_page(sysadmin_api, "users/", rows)


@pytest.mark.parametrize("rows", SIZES)
def test_audit_events_list(admin_api, admin, rows, django_assert_num_queries):
    make_events(admin, rows)
    with django_assert_num_queries(2):
        get_page(admin_api, "audit-events/", rows)


@pytest.mark.parametrize("rows", SIZES)
def test_tenants_list(sysadmin_api, rows, django_assert_num_queries):
    make_tenants(rows)
    with django_assert_num_queries(2):
        get_page(sysadmin_api, "tenants/", rows)


@pytest.mark.parametrize(
    ("path", "who"),
    [("customers/", "admin"), ("users/", "admin"), ("audit-events/", "admin"), ("tenants/", "sysadmin")],
)
def test_token_authentication_adds_the_same_queries_to_every_list(anon, request, path, who):
    user = request.getfixturevalue(who)
    secret = anon.post(url("auth/token/"), {"email": user.email, "password": PASSWORD}, format="json").json()
    anon.credentials(HTTP_AUTHORIZATION=f"Token {secret['token']}")
    anon.get(url(path))  # the first use stamps last_used_at

    counts = []
    for n in SIZES:
        if path == "tenants/":
            make_tenants(n)
        elif path == "audit-events/":
            make_events(user, n)
        else:
            make_customers(user.tenant, n)
        with CaptureQueriesContext(connection) as ctx:
            assert anon.get(url(path), {"page_size": 100}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
