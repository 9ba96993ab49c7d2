"""The customers table's rows (cloudmsp/customers/templatetags/customer_cells.py)."""

import pytest
from django.urls import reverse

from cloudmsp.customers.templatetags.customer_cells import customer_rows
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ALL = {"first_name": True, "last_name": True, "email": True, "accounts": True, "users": True}


def test_a_row_links_the_details_users_and_delete_and_escapes_every_value(tenant):
    c = CustomerFactory(tenant=tenant, company_name='<img src=x onerror="1">', first_name="<b>", email="a@b.example")
    c.account_count, c.user_count = 3, 1
    html = str(customer_rows([c], ALL))
    assert html.startswith(f'<tr id="customer-{c.pk}">')
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;" in html
    assert f'href="{reverse("customers:detail", kwargs={"customer_id": c.pk})}"' in html
    assert f'href="{reverse("customers:user_list", kwargs={"customer_id": c.pk})}" aria-label="1 user of ' in html
    assert f'hx-get="{reverse("customers:delete", kwargs={"customer_id": c.pk})}"' in html
    assert "<td>3</td>" in html
    assert html.count("<td") == 7


def test_only_the_chosen_columns_are_shown_and_the_open_row_is_marked(tenant):
    first, second = CustomerFactory(tenant=tenant), CustomerFactory(tenant=tenant)
    first.account_count = second.account_count = 0
    first.user_count, second.user_count = 2, 0
    html = str(customer_rows([first, second], {"users": True}, second.pk))
    assert html.count("<tr") == 2
    assert html.count("<td") == 6
    assert 'aria-label="2 users of' in html
    assert 'aria-label="0 users of' in html
    assert f'<tr id="customer-{second.pk}" class="selected" aria-current="true">' in html
    assert f'<tr id="customer-{first.pk}">' in html
