"""cloudmsp.customers.selectors: which customers an actor reaches, and how they are listed."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from cloudmsp.core.errors import NotFound, PermissionDenied
from cloudmsp.customers.selectors import (
    customer_accounts_preview,
    customer_choices,
    customer_for_field,
    customer_get,
    customer_list,
    customer_picker,
    customers_visible_to,
)
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, UserFactory

pytestmark = pytest.mark.django_db

MALFORMED_IDS = ["abc", "", "0", "-1", "1.5", "1e3", " 1", "\uff11", None, True, 0, -5, 2**63, "9" * 40, [1]]


def _names(qs) -> list[str]:
    return [c.company_name for c in qs]


# customers_visible_to ---------------------------------------------------------------------------


def test_tenant_admin_sees_every_customer_of_its_tenant_only(admin, customer):
    second = CustomerFactory(tenant=admin.tenant)
    CustomerFactory()  # another tenant's
    assert set(customers_visible_to(admin)) == {customer, second}


def test_customer_user_sees_only_its_own_customer(customer_user, customer):
    CustomerFactory(tenant=customer.tenant)  # same tenant, another customer
    assert list(customers_visible_to(customer_user)) == [customer]


def test_sysadmin_and_anonymous_see_no_customer(sysadmin, customer):
    assert list(customers_visible_to(sysadmin)) == []
    assert list(customers_visible_to(AnonymousUser())) == []


# customer_list ----------------------------------------------------------------------------------


def test_list_counts_accounts_and_users_of_each_customer(admin, customer):
    empty = CustomerFactory(tenant=admin.tenant, company_name="Empty")
    CustomerUserFactory(customer=customer)
    CustomerUserFactory(customer=customer)
    for _ in range(3):
        CloudAccountFactory(tenant=admin.tenant, customer=customer)
    CloudAccountFactory(tenant=admin.tenant)  # unassigned: counted for nobody
    listed = {c.company_name: (c.account_count, c.user_count) for c in customer_list(actor=admin)}
    assert listed == {customer.company_name: (3, 2), empty.company_name: (0, 0)}


def test_a_customer_user_lists_its_customer_with_its_counts(customer_user, customer):
    CloudAccountFactory(tenant=customer.tenant, customer=customer)
    CustomerFactory(tenant=customer.tenant, company_name="Neighbour")
    [listed] = customer_list(actor=customer_user)
    assert (listed, listed.account_count, listed.user_count) == (customer, 1, 1)


def test_list_of_someone_who_sees_no_customer_is_empty(sysadmin, customer):
    assert list(customer_list(actor=sysadmin)) == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ACME", ["Acme"]),
        ("  acme  ", ["Acme"]),
        ("billing@init", ["Initech"]),
        ("ada", ["Globex"]),
        ("lovel", ["Globex"]),
        ("zzz", []),
        ("", ["Acme", "Globex", "Initech"]),
    ],
)
def test_list_search_covers_name_email_and_contact(admin, search, expected):
    tenant = admin.tenant
    CustomerFactory(tenant=tenant, company_name="Acme")
    CustomerFactory(tenant=tenant, company_name="Initech", email="billing@initech.example")
    CustomerFactory(tenant=tenant, company_name="Globex", first_name="Ada", last_name="Lovelace")
    CustomerFactory(company_name="Acme Abroad")  # another tenant's
    assert _names(customer_list(actor=admin, search=search)) == expected


def test_list_orderings_and_the_fallback(admin):
    tenant = admin.tenant
    b = CustomerFactory(tenant=tenant, company_name="Beta", email="a@x.example", first_name="Zed", last_name="Adams")
    a = CustomerFactory(tenant=tenant, company_name="Alpha", email="c@x.example", first_name="Mia", last_name="Cole")
    c = CustomerFactory(tenant=tenant, company_name="Gamma", email="b@x.example", first_name="Amy", last_name="Bell")
    assert list(customer_list(actor=admin)) == [a, b, c]
    assert list(customer_list(actor=admin, ordering="-company_name")) == [c, b, a]
    assert list(customer_list(actor=admin, ordering="email")) == [b, c, a]
    assert list(customer_list(actor=admin, ordering="-email")) == [a, c, b]
    assert list(customer_list(actor=admin, ordering="first_name")) == [c, a, b]
    assert list(customer_list(actor=admin, ordering="last_name")) == [b, c, a]
    assert list(customer_list(actor=admin, ordering="created_at")) == [b, a, c]
    assert list(customer_list(actor=admin, ordering="-created_at")) == [c, a, b]
    assert list(customer_list(actor=admin, ordering="tenant_id")) == [a, b, c]  # not offered: by name


def test_list_with_counts_is_one_query_however_many_rows(admin, django_assert_num_queries):
    for _ in range(4):
        customer = CustomerFactory(tenant=admin.tenant)
        CustomerUserFactory(customer=customer)
        CloudAccountFactory(tenant=admin.tenant, customer=customer)
    with django_assert_num_queries(1):
        rows = [(c.company_name, c.account_count, c.user_count) for c in customer_list(actor=admin)]
    assert [(n, u) for _, n, u in rows] == [(1, 1)] * 4


# customer_get -----------------------------------------------------------------------------------


def test_get_returns_the_customer_with_its_counts(admin, customer):
    CustomerUserFactory(customer=customer)
    CloudAccountFactory(tenant=customer.tenant, customer=customer)
    CloudAccountFactory(tenant=customer.tenant, customer=customer)
    got = customer_get(actor=admin, customer_id=str(customer.pk))
    assert (got, got.account_count, got.user_count) == (customer, 2, 1)


def test_get_of_a_foreign_tenants_customer_reads_like_a_missing_one(admin):
    foreign = CustomerFactory()
    with pytest.raises(NotFound) as exc:
        customer_get(actor=admin, customer_id=foreign.pk)
    with pytest.raises(NotFound) as missing:
        customer_get(actor=admin, customer_id=foreign.pk + 1000)
    assert exc.value.message == missing.value.message == "Customer not found."
    assert foreign.company_name not in str(exc.value.extra)


def test_customer_user_cannot_get_another_customer_of_its_tenant(customer_user, customer):
    neighbour = CustomerFactory(tenant=customer.tenant)
    assert customer_get(actor=customer_user, customer_id=customer.pk) == customer
    with pytest.raises(NotFound):
        customer_get(actor=customer_user, customer_id=neighbour.pk)


@pytest.mark.parametrize("raw", MALFORMED_IDS, ids=repr)
def test_get_of_a_malformed_id_is_not_found(admin, customer, raw):
    with pytest.raises(NotFound) as exc:
        customer_get(actor=admin, customer_id=raw)
    assert exc.value.message == "Customer not found."


def test_malformed_ids_cost_no_query(admin, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(NotFound):
        customer_get(actor=admin, customer_id="not-an-id")


def test_get_is_one_query(admin, customer, django_assert_num_queries):
    with django_assert_num_queries(1):
        got = customer_get(actor=admin, customer_id=customer.pk)
        assert (got.account_count, got.user_count) == (0, 0)


# customer_for_field -----------------------------------------------------------------------------


def test_for_field_returns_a_customer_in_reach(admin, customer):
    assert customer_for_field(actor=admin, customer_id=str(customer.pk)) == customer


@pytest.mark.parametrize("raw", ["foreign", "missing", "abc", None])
def test_for_field_refuses_an_id_out_of_reach_on_the_field(admin, raw):
    foreign = CustomerFactory()
    customer_id = {"foreign": foreign.pk, "missing": foreign.pk + 1000}.get(raw, raw)
    with pytest.raises(ValidationError) as exc:
        customer_for_field(actor=admin, customer_id=customer_id)
    assert exc.value.message_dict == {"customer": ["Customer not found."]}


def test_for_field_names_the_field_it_was_given(admin):
    with pytest.raises(ValidationError) as exc:
        customer_for_field(actor=admin, customer_id=CustomerFactory().pk, field="customer_id")
    assert exc.value.message_dict == {"customer_id": ["Customer not found."]}


# customer_choices -------------------------------------------------------------------------------


def test_choices_are_the_tenants_customers_by_name(admin):
    zulu = CustomerFactory(tenant=admin.tenant, company_name="Zulu")
    alpha = CustomerFactory(tenant=admin.tenant, company_name="Alpha")
    mike = CustomerFactory(tenant=admin.tenant, company_name="Mike")
    CustomerFactory(company_name="Abroad")
    assert list(customer_choices(actor=admin)) == [alpha, mike, zulu]


def test_choices_only_for_a_tenant_administrator(sysadmin, customer_user):
    for actor in (sysadmin, customer_user, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            customer_choices(actor=actor)


def test_choices_of_a_tenant_without_customers_are_empty():
    assert list(customer_choices(actor=UserFactory())) == []


def test_choices_search_the_company_name_and_stop_at_the_limit(admin):
    for name in ("Acme North", "Acme South", "ACME West", "Zenith"):
        CustomerFactory(tenant=admin.tenant, company_name=name)
    CustomerFactory(company_name="Acme Abroad")
    found = {c.company_name for c in customer_choices(actor=admin, search=" acme ")}
    assert found == {"Acme North", "Acme South", "ACME West"}
    assert len(customer_choices(actor=admin, search="acme", limit=2)) == 2


# customer_picker ---------------------------------------------------------------------------------


def test_picker_offers_a_page_of_customers_and_says_when_more_match(admin, monkeypatch):
    from cloudmsp.customers import selectors

    monkeypatch.setattr(selectors, "PICKER_LIMIT", 3)
    made = [CustomerFactory(tenant=admin.tenant, company_name=f"Customer {i:02d}") for i in range(5)]
    found, more = customer_picker(actor=admin)
    assert (found, more) == (made[:3], True)
    found, more = customer_picker(actor=admin, search="Customer 04")
    assert (found, more) == ([made[4]], False)


def test_picker_keeps_the_chosen_customer_first_when_it_is_not_on_the_page(admin, monkeypatch):
    from cloudmsp.customers import selectors

    monkeypatch.setattr(selectors, "PICKER_LIMIT", 2)
    made = [CustomerFactory(tenant=admin.tenant, company_name=f"Customer {i:02d}") for i in range(4)]
    found, _more = customer_picker(actor=admin, selected=str(made[3].pk))
    assert found == [made[3], made[0], made[1]]
    found, _more = customer_picker(actor=admin, selected=made[0].pk)
    assert found == made[:2]


@pytest.mark.parametrize("selected", ["foreign", "garbage", "missing"])
def test_picker_ignores_a_chosen_customer_out_of_reach(admin, selected):
    own = CustomerFactory(tenant=admin.tenant, company_name="Own")
    value = {"foreign": CustomerFactory(company_name="Theirs").pk, "garbage": "1 OR 1=1", "missing": 10**9}[selected]
    found, more = customer_picker(actor=admin, selected=value)
    assert (found, more) == ([own], False)


def test_picker_needs_a_fixed_number_of_statements_whatever_the_number_of_customers(admin, django_assert_num_queries):
    CustomerFactory.create_batch(120, tenant=admin.tenant)
    chosen = CustomerFactory(tenant=admin.tenant, company_name="zzz last")
    with django_assert_num_queries(2):
        found, more = customer_picker(actor=admin, selected=chosen.pk)
    assert found[0] == chosen
    assert len(found) == 51
    assert more


# customer_accounts_preview -------------------------------------------------------------------------


def test_accounts_preview_is_the_first_of_the_customers_accounts(admin, customer, django_assert_num_queries):
    accounts = [
        CloudAccountFactory(tenant=admin.tenant, customer=customer, account_id=f"2000000000{i:02d}") for i in range(8)
    ]
    CloudAccountFactory(tenant=admin.tenant)
    with django_assert_num_queries(1):
        found = customer_accounts_preview(customer=customer)
    assert found == accounts[:5]
    assert customer_accounts_preview(customer=customer, limit=2) == accounts[:2]


# customer_tab, customer_users, customer_history ----------------------------------------------------


def test_customer_tab_is_a_known_tab_or_details():
    from cloudmsp.customers.selectors import customer_tab

    assert customer_tab("history") == "history"
    assert customer_tab("nope") == "details"
    assert customer_tab(None) == "details"


@pytest.mark.django_db
def test_customer_users_and_history_are_the_customers_own():
    from cloudmsp.customers.selectors import customer_history, customer_users
    from cloudmsp.customers.services import customer_update
    from cloudmsp.tenancy.access import actor_of

    acme = CustomerFactory(company_name="Acme")
    other = CustomerFactory(tenant=acme.tenant)
    mine = CustomerUserFactory(customer=acme, email="b@acme.test")
    CustomerUserFactory(customer=other)
    admin = actor_of(UserFactory(tenant=acme.tenant))
    customer_update(actor=admin, customer=acme, data={"city": "Springfield"})
    customer_update(actor=admin, customer=other, data={"city": "Elsewhere"})
    assert customer_users(customer=acme) == [mine]
    events = customer_history(customer=acme)
    assert [e.action for e in events] == ["customer.update"]
    assert events[0].object_id == str(acme.pk)
