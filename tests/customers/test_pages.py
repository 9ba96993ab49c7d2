import pytest
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.customers.models import Customer
from tests.factories import CloudAccountFactory, CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_list_page_shows_the_tenants_customers_with_counts(admin_client, customer):
    CustomerUserFactory(customer=customer)
    CloudAccountFactory(tenant=customer.tenant, customer=customer)
    response = admin_client.get(reverse("customers:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme" in html
    assert 'aria-label="Create customer"' in html
    assert f'aria-label="Delete customer {customer.company_name}"' in html
    row = html[html.index(f'id="customer-{customer.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<td>1</td>" in row  # one account


def test_htmx_list_request_returns_only_the_table(admin_client, customer):
    response = admin_client.get(reverse("customers:list"), {"q": "acm"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="customer-table"' in html
    assert "Acme" in html


def test_search_filters_and_empty_state(admin_client, customer):
    response = admin_client.get(reverse("customers:list"), {"q": "zzz-nothing"}, **HTMX)
    assert "No customer matches" in response.content.decode()


def test_create_dialog_creates_customer_and_opens_details(admin_client, tenant):
    url = reverse("customers:create")
    form = admin_client.get(url, **HTMX)
    assert form.status_code == 200
    assert 'name="company_name"' in form.content.decode()
    response = admin_client.post(
        url,
        {"company_name": "Initech", "first_name": "Bill", "last_name": "L", "email": "Bill@Initech.example"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#details-panel"
    assert "customers-changed" in response["HX-Trigger"]
    customer = Customer.objects.for_tenant(tenant).get(company_name="Initech")
    assert customer.email == "bill@initech.example"
    assert AuditEvent.objects.for_tenant(tenant).filter(action="customer.create", object_id=str(customer.pk)).exists()


def test_create_with_duplicate_name_shows_error_next_to_field(admin_client, customer):
    response = admin_client.post(
        reverse("customers:create"),
        {"company_name": "ACME", "first_name": "A", "last_name": "B", "email": "a@b.example"},
        **HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "A customer with this company name already exists." in html
    assert 'id="id_company_name_error"' in html
    assert Customer.objects.for_tenant(customer.tenant).count() == 1


def test_details_edit_and_save(admin_client, customer):
    detail = admin_client.get(reverse("customers:detail", kwargs={"customer_id": customer.pk}), **HTMX)
    assert "Edit" in detail.content.decode()
    edit_url = reverse("customers:edit", kwargs={"customer_id": customer.pk})
    form = admin_client.get(edit_url, **HTMX)
    assert 'value="Acme"' in form.content.decode()
    response = admin_client.post(
        edit_url,
        {
            "company_name": "Acme Ltd",
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "g@acme.example",
            "city": "Paris",
        },
        **HTMX,
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.company_name, customer.city) == ("Acme Ltd", "Paris")
    event = AuditEvent.objects.for_tenant(customer.tenant).get(action="customer.update")
    assert event.changes["company_name"] == ["Acme", "Acme Ltd"]
    assert event.changes["city"] == ["", "Paris"]


def test_delete_confirmation_says_what_goes_and_delete_keeps_accounts(admin_client, customer):
    CustomerUserFactory(customer=customer)
    CustomerUserFactory(customer=customer)
    account = CloudAccountFactory(tenant=customer.tenant, customer=customer)
    url = reverse("customers:delete", kwargs={"customer_id": customer.pk})
    confirm = admin_client.get(url, **HTMX).content.decode()
    assert "Its 2 users will be deleted." in confirm
    assert "Its 1 cloud account will become unassigned" in confirm
    response = admin_client.post(url, **HTMX)
    assert response.status_code == 200
    assert not Customer.unscoped.filter(pk=customer.pk).exists()
    account.refresh_from_db()
    assert account.customer_id is None


def test_full_page_fallback_without_htmx(admin_client, customer):
    response = admin_client.get(reverse("customers:detail", kwargs={"customer_id": customer.pk}))
    html = response.content.decode()
    assert "<html" in html
    assert 'id="details-panel"' in html
    assert "Grace" in html
    created = admin_client.post(
        reverse("customers:create"), {"company_name": "B", "first_name": "x", "last_name": "y", "email": "x@y.example"}
    )
    assert created.status_code == 303


def test_customer_user_cannot_reach_customer_pages(client_for, customer_user):
    client = client_for(customer_user)
    assert client.get(reverse("customers:list")).status_code == 403


def test_foreign_customer_is_404(admin_client):
    other = CustomerFactory()
    assert admin_client.get(reverse("customers:detail", kwargs={"customer_id": other.pk})).status_code == 404


def test_details_list_the_customers_first_accounts_and_link_to_them_all(admin_client, customer, tenant):
    mine = [CloudAccountFactory(tenant=tenant, customer=customer, account_id=f"10000000000{i}") for i in range(7)]
    CloudAccountFactory(tenant=tenant, account_id="999999999999", name="unassigned-one")
    url = reverse("customers:detail", kwargs={"customer_id": customer.pk})
    html = admin_client.get(url, **HTMX).content.decode()
    link = f"{reverse('cloud:accounts')}?customer={customer.pk}"
    assert f'<a href="{link}">7 accounts — show them in Account Management</a>' in html
    for account in mine[:5]:
        assert account.account_id in html
    assert mine[5].account_id not in html
    assert "(7 in all)" in html
    assert "999999999999" not in html
    # The link is the account list filtered by that customer.
    listed = admin_client.get(link).content.decode()
    assert all(a.account_id in listed for a in mine)
    assert "unassigned-one" not in listed


def test_details_of_a_customer_without_accounts_say_so(admin_client, customer):
    html = admin_client.get(reverse("customers:detail", kwargs={"customer_id": customer.pk}), **HTMX).content.decode()
    assert "None yet" in html
    assert "show them in Account Management" not in html
