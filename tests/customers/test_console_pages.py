"""The customers list as a console table: the details panel's tabs, its close button, the
selected row, copy buttons (issue 15, "Tables like a console")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cloudmsp.cloud.services.association import accounts_associate
from cloudmsp.customers.services import customer_update
from cloudmsp.tenancy.access import actor_of
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory, TenantFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail(client, customer, tab=None, **extra):
    data = {"tab": tab} if tab else {}
    return client.get(reverse("customers:detail", kwargs={"customer_id": customer.pk}), data, **extra)


def test_the_panel_has_four_tabs_the_chosen_one_selected_and_a_close_button(admin_client, customer):
    html = detail(admin_client, customer, "users", **HTMX).content.decode()
    assert html.count('role="tab"') == 4
    assert 'role="tablist"' in html
    assert 'id="customer-tab-users" href="' in html
    users_tab = html[html.index('id="customer-tab-users"') :]
    assert 'aria-selected="true"' in users_tab[: users_tab.index(">")]
    details_tab = html[html.index('id="customer-tab-details"') :]
    assert 'aria-selected="false"' in details_tab[: details_tab.index(">")]
    assert 'tabindex="-1"' in details_tab[: details_tab.index(">")]
    assert 'role="tabpanel" id="customer-tabpanel" aria-labelledby="customer-tab-users"' in html
    assert 'aria-label="Close details"' in html
    assert f'data-panel-row="customer-{customer.pk}"' in html


def test_an_unknown_tab_is_the_details_tab(admin_client, customer):
    html = detail(admin_client, customer, "<script>", **HTMX).content.decode()
    assert 'aria-labelledby="customer-tab-details"' in html
    assert "Company Name" in html


def test_users_tab_lists_the_customers_users_only(admin_client, customer, tenant):
    CustomerUserFactory(customer=customer, email="ann@acme.test")
    CustomerUserFactory(customer=CustomerFactory(tenant=tenant, company_name="Other"), email="bob@other.test")
    html = detail(admin_client, customer, "users", **HTMX).content.decode()
    assert "ann@acme.test" in html
    assert "bob@other.test" not in html


def test_accounts_tab_lists_its_accounts_with_copy_buttons(admin_client, customer, tenant):
    CloudAccountFactory(tenant=tenant, customer=customer, account_id="111122223333", name="Prod")
    CloudAccountFactory(tenant=tenant, account_id="999988887777")
    html = detail(admin_client, customer, "accounts", **HTMX).content.decode()
    assert 'aria-label="Copy account id 111122223333"' in html
    assert 'data-copy-text="111122223333"' in html
    assert "999988887777" not in html


def test_history_tab_shows_its_changes_and_the_accounts_it_owned(admin_client, admin, customer, tenant):
    customer_update(actor=actor_of(admin), customer=customer, data={"city": "Springfield"})
    account = CloudAccountFactory(tenant=tenant, account_id="111122223333")
    accounts_associate(actor=actor_of(admin), customer=customer, account_ids=[account.pk])
    other = CustomerFactory(tenant=tenant, company_name="Other")
    customer_update(actor=actor_of(admin), customer=other, data={"city": "Shelbyville"})
    html = detail(admin_client, customer, "history", **HTMX).content.decode()
    assert "customer.update" in html
    assert "Springfield" in html
    assert "Shelbyville" not in html
    assert "111122223333" in html
    assert "until now" in html


def test_every_tab_renders_as_a_full_page_without_htmx(admin_client, customer):
    for tab in ("details", "users", "accounts", "history"):
        response = detail(admin_client, customer, tab)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert f'aria-labelledby="customer-tab-{tab}"' in html
        # The row of the customer shown is marked as the selected one.
        assert f'<tr id="customer-{customer.pk}" class="selected" aria-current="true">' in html


def test_tabs_of_another_tenants_customer_are_404(admin_client):
    foreign = CustomerFactory(tenant=TenantFactory(name="Elsewhere"))
    for tab in ("details", "users", "accounts", "history"):
        assert detail(admin_client, foreign, tab, **HTMX).status_code == 404


def _queries(client, customer, tab):
    with CaptureQueriesContext(connection) as queries:
        assert detail(client, customer, tab, **HTMX).status_code == 200
    return len(queries)


@pytest.mark.parametrize("tab", ["details", "users", "accounts", "history"])
def test_each_tab_takes_as_many_queries_for_many_rows_as_for_one(admin_client, admin, customer, tenant, tab):
    def add(i):
        CustomerUserFactory(customer=customer, email=f"u{i}@acme.test")
        account = CloudAccountFactory(tenant=tenant, account_id=f"11112222{i:04d}")
        accounts_associate(actor=actor_of(admin), customer=customer, account_ids=[account.pk])
        customer_update(actor=actor_of(admin), customer=customer, data={"city": f"City {i}"})

    add(0)
    one = _queries(admin_client, customer, tab)
    for i in range(1, 5):
        add(i)
    assert _queries(admin_client, customer, tab) == one


def test_the_full_page_names_each_copy_button_by_its_value(admin_client, customer, tenant):
    CloudAccountFactory(tenant=tenant, customer=customer, account_id="111122223333")
    html = detail(admin_client, customer, "accounts").content.decode()
    assert 'aria-label="Copy account id 111122223333"' in html
    assert 'aria-label="Copy customers"' not in html


# Sorting by the counts -------------------------------------------------------------------------


def _customers_with_counts(tenant):
    """Three customers: Beta (2 accounts, 0 users), Alpha (0, 2), Gamma (1, 1)."""
    beta = CustomerFactory(tenant=tenant, company_name="Beta")
    alpha = CustomerFactory(tenant=tenant, company_name="Alpha")
    gamma = CustomerFactory(tenant=tenant, company_name="Gamma")
    for owner, accounts, users in ((beta, 2, 0), (alpha, 0, 2), (gamma, 1, 1)):
        for _ in range(accounts):
            CloudAccountFactory(tenant=tenant, customer=owner)
        for _ in range(users):
            CustomerUserFactory(customer=owner)
    return alpha, beta, gamma


def _order(html, names):
    return sorted(names, key=lambda n: html.index(f">{n}</a>"))


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("account_count", ["Alpha", "Gamma", "Beta"]),
        ("-account_count", ["Beta", "Gamma", "Alpha"]),
        ("user_count", ["Beta", "Gamma", "Alpha"]),
        ("-user_count", ["Alpha", "Gamma", "Beta"]),
    ],
)
def test_customers_sort_by_their_counts(admin_client, tenant, sort, expected):
    _customers_with_counts(tenant)
    html = admin_client.get(reverse("customers:list"), {"sort": sort}, **HTMX).content.decode()
    assert _order(html, ["Alpha", "Beta", "Gamma"]) == expected
    header = "Accounts" if sort.endswith("account_count") else "Users"
    direction = "descending" if sort.startswith("-") else "ascending"
    assert f'aria-sort="{direction}"><a href="/customers/?sort=' in html
    assert f"{header} {'▼' if direction == 'descending' else '▲'}" in html


def test_sorting_by_a_count_takes_as_many_queries_for_many_customers(admin_client, tenant):
    _customers_with_counts(tenant)

    def queries():
        with CaptureQueriesContext(connection) as q:
            admin_client.get(reverse("customers:list"), {"sort": "-account_count"}, **HTMX)
        return len(q)

    few = queries()
    for i in range(10):
        owner = CustomerFactory(tenant=tenant, company_name=f"More {i}")
        CloudAccountFactory(tenant=tenant, customer=owner)
        CustomerUserFactory(customer=owner)
    assert queries() == few


def test_export_csv_is_a_button_in_the_tool_bar_above_the_table(admin_client, customer):
    html = admin_client.get(reverse("customers:list")).content.decode()
    assert html.index('<div class="table-tools">') < html.index('class="button-link"') < html.index("<table")
    empty = admin_client.get(reverse("customers:list"), {"q": "nothing-matches"}).content.decode()
    assert "Export CSV" not in empty
