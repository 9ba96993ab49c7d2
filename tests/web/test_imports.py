"""The CSV pages (SPEC 10): Export CSV on every account list and the customers list (what the
list shows, all pages), and the import pages: upload, the diff, then Apply, which takes the file
kept server-side under a token, never the page's word for it."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudmsp.cloud.models import Category, CloudAccount, Kind
from cloudmsp.customers.models import Customer
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_account_list_links_its_export_with_its_filters(admin, admin_client, customer):
    management = CloudAccountFactory(tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT)
    CloudAccountFactory.create_batch(
        30, tenant=admin.tenant, kind=Kind.MEMBER, category=Category.MSP, parent=management
    )
    CloudAccountFactory.create_batch(3, tenant=admin.tenant, customer=customer, name="=evil")
    lists = {
        reverse("cloud:accounts"): 34,
        reverse("cloud:msp"): 1,
        reverse("cloud:non_msp"): 3,
        reverse("cloud:members", kwargs={"account_id": management.pk}): 30,
    }
    for path, count in lists.items():
        html = admin_client.get(path, {"per_page": 10, "page": 2 if count > 10 else 1}).content.decode()
        assert "Export CSV" in html, path
        assert 'href="/administration/accounts/import/"' in html
        rows = rows_of(admin_client.get(path, {"per_page": 10, "page": 2, "format": "csv"}))
        assert len(rows) == count, path
    searched = rows_of(admin_client.get(reverse("cloud:accounts"), {"q": "evil", "format": "csv"}))
    assert [(r["name"], r["customer"]) for r in searched] == [("'=evil", "Acme")] * 3


def test_the_export_link_keeps_search_and_sort_and_drops_the_page(admin, admin_client):
    CloudAccountFactory.create_batch(12, tenant=admin.tenant)
    html = admin_client.get(
        reverse("cloud:non_msp"), {"q": "account", "sort": "-name", "page": 2, "per_page": 10}, **HTMX
    )
    text = html.content.decode()
    link = text[text.index("Export CSV") - 200 : text.index("Export CSV")]
    assert "format=csv" in link
    assert "q=account" in link
    assert "sort=-name" in link
    assert "?page=" not in link
    assert "&amp;page=" not in link


def test_the_customers_list_exports_its_search(admin, admin_client, customer):
    CustomerFactory(tenant=admin.tenant, company_name="Globex")
    assert "Export CSV" in admin_client.get(reverse("customers:list")).content.decode()
    rows = rows_of(admin_client.get(reverse("customers:list"), {"q": "glob", "format": "csv"}))
    assert [r["company_name"] for r in rows] == ["Globex"]


def _upload(client, path, text: str):
    return client.post(path, {"file": SimpleUploadedFile("map.csv", text.encode(), content_type="text/csv")})


def test_upload_shows_the_diff_then_apply_changes_exactly_that(admin, admin_client, customer):
    account = CloudAccountFactory(tenant=admin.tenant, account_id="100000000001")
    path = reverse("cloud:import")
    page = admin_client.get(path)
    assert page.status_code == 200
    assert '<label for="id_file">CSV file' in page.content.decode()
    checked = _upload(admin_client, path, "account_id,customer\n100000000001,Acme\n")
    html = checked.content.decode()
    assert checked.status_code == 200
    assert "Created: <strong>1</strong>" in html
    assert "no customer → Acme" in html
    account.refresh_from_db()
    assert account.customer_id is None
    token = checked.context["apply_form"].initial["token"]
    applied = admin_client.post(path, {"token": token})
    assert applied.status_code == 200
    assert "Import applied: 1 created" in applied.content.decode()
    account.refresh_from_db()
    assert account.customer_id == customer.pk
    # The pending file is gone: Apply again asks for the file again.
    again = admin_client.post(path, {"token": token})
    assert again.status_code == 409
    assert "upload the file again" in again.content.decode()


def test_apply_trusts_no_token_but_its_own_and_validates_again(admin, admin_client, customer):
    CloudAccountFactory(tenant=admin.tenant, account_id="100000000001")
    path = reverse("cloud:import")
    checked = _upload(admin_client, path, "account_id,customer\n100000000001,Acme\n")
    assert admin_client.post(path, {"token": "forged"}).status_code == 409
    customer.delete()  # the file's customer is gone since the dry run
    refused = admin_client.post(path, {"token": checked.context["apply_form"].initial["token"]})
    assert refused.status_code == 400
    assert "no customer named “Acme”" in refused.content.decode()
    assert not CloudAccount.objects.for_tenant(admin.tenant).filter(customer__isnull=False).exists()


def test_errors_are_shown_by_line_and_offer_no_apply(admin, admin_client):
    checked = _upload(admin_client, reverse("cloud:import"), "account_id,customer\n12,Acme\n")
    html = checked.content.decode()
    assert "<td>2</td><td>account_id</td><td>An AWS account id is exactly 12 digits.</td>" in html
    assert ">Apply</button>" not in html
    unreadable = _upload(admin_client, reverse("cloud:import"), "nope\n")
    assert unreadable.status_code == 422
    assert "unknown column(s)" in unreadable.content.decode()


def test_the_customers_import_page(admin, admin_client):
    path = reverse("customers:import")
    assert 'href="/customers/import/"' in admin_client.get(reverse("customers:list")).content.decode()
    checked = _upload(admin_client, path, "company_name,first_name,last_name,email\nInitech,Bill,L,b@i.test\n")
    assert "Created: <strong>1</strong>" in checked.content.decode()
    admin_client.post(path, {"token": checked.context["apply_form"].initial["token"]})
    assert list(Customer.objects.for_tenant(admin.tenant).values_list("company_name", flat=True)) == ["Initech"]


def test_one_users_pending_file_is_not_anothers(admin, admin_client, client_for, customer):
    from tests.factories import UserFactory

    CloudAccountFactory(tenant=admin.tenant, account_id="100000000001")
    checked = _upload(admin_client, reverse("cloud:import"), "account_id,customer\n100000000001,Acme\n")
    other = client_for(UserFactory(tenant=admin.tenant))
    token = checked.context["apply_form"].initial["token"]
    assert other.post(reverse("cloud:import"), {"token": token}).status_code == 409


def test_apply_makes_no_change_the_page_did_not_show(admin, admin_client, customer):
    """Review: Apply planned the file again and silently made changes the dry run never showed."""
    account = CloudAccountFactory(tenant=admin.tenant, account_id="100000000001")
    other = CustomerFactory(tenant=admin.tenant, company_name="Globex")
    path = reverse("cloud:import")
    checked = _upload(admin_client, path, "account_id,customer\n100000000001,Acme\n")
    assert "no customer → Acme" in checked.content.decode()
    # Another administrator assigns the account meanwhile: the file would now move it from Globex.
    CloudAccount.objects.for_tenant(admin.tenant).filter(pk=account.pk).update(customer=other)
    refused = admin_client.post(path, {"token": checked.context["apply_form"].initial["token"]})
    assert refused.status_code == 409
    assert "since the file was checked" in refused.content.decode()
    account.refresh_from_db()
    assert account.customer_id == other.pk
