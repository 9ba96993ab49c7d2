"""The account list pages' filters (kept in the URL), "Select all N accounts matching this
filter" with the bulk dialogs, bulk onboarding and validation jobs on their page with "Retry the
failed ones", and the customer picker of Link to Customer."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from cloudmsp.cloud.models import Category, CloudAccount, Job, JobKind, JobState, Kind
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def management(tenant):
    return CloudAccountFactory(tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id="111122223333")


def _members(management, n, **kwargs):
    return CloudAccountFactory.create_batch(
        n, tenant=management.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=management, **kwargs
    )


def _match(html: str) -> dict[str, list[str]]:
    found = re.search(r'name="match" value="([^"]*)"', html)
    assert found, "no match field"
    return parse_qs(unescape(found.group(1)))


def _rows(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="accounts" value="(\d+)"', html)}


def test_member_filters_narrow_the_list_and_stay_in_the_state_it_carries(admin_client, management, customer):
    wanted = _members(management, 12, ou_path="Root/Prod/Web", onboarding_status="failed")
    _members(management, 1, ou_path="Root/Prod", onboarding_status="failed", customer=customer)
    _members(management, 1, ou_path="Root/Dev", onboarding_status="failed")
    _members(management, 1, ou_path="Root/Prod", onboarding_status="not_onboarded")
    query = {"customer": "none", "onboarding_status": "failed", "ou": "Root/Prod", "sort": "-name", "per_page": "10"}
    html = admin_client.get(reverse("cloud:members", kwargs={"account_id": management.pk}), query).content.decode()
    assert len(_rows(html)) == 10
    assert _rows(html) <= {a.pk for a in wanted}
    assert "of 12" in html
    # The toolbar shows what is asked for; the table's refresh keeps every parameter.
    assert '<option value="none" selected>No customer</option>' in html
    assert '<option value="failed" selected>Failed</option>' in html
    assert 'name="ou" value="Root/Prod"' in html
    assert re.search(r'<option value="10"\s+selected>10</option>', html)
    assert 'name="sort" value="-name"' in html
    assert "onboarding_status=failed" in html
    assert "ou=Root%2FProd" in html
    reset = re.search(r'<a href="([^"]+)">Reset filters</a>', html)
    assert reset
    assert unescape(reset.group(1)).endswith("?sort=-name&per_page=10")
    # "All matching" carries the same filter, with the MSP account the page is about.
    assert _match(html) == {
        "scope": ["all"],
        "customer": ["none"],
        "onboarding_status": ["failed"],
        "ou": ["Root/Prod"],
        "parent": [str(management.pk)],
    }


def test_an_unfiltered_list_offers_no_reset_and_the_all_accounts_page_filters_on_the_type(admin_client, management):
    _members(management, 2)
    CloudAccountFactory(tenant=management.tenant)
    html = admin_client.get(reverse("cloud:accounts")).content.decode()
    assert "Reset filters" not in html
    assert '<select name="kind"' in html
    html = admin_client.get(reverse("cloud:accounts"), {"kind": "member"}).content.decode()
    assert len(_rows(html)) == 2
    assert "Reset filters" in html
    non_msp = admin_client.get(reverse("cloud:non_msp")).content.decode()
    assert '<select name="kind"' not in non_msp
    assert '<select name="customer"' in non_msp


def test_a_customer_asked_for_in_the_url_is_offered_in_the_filter_even_among_thousands(admin_client, tenant):
    CustomerFactory.create_batch(60, tenant=tenant)
    late = CustomerFactory(tenant=tenant, company_name="zzz Late")
    CloudAccountFactory(tenant=tenant, customer=late, name="late-one")
    html = admin_client.get(reverse("cloud:accounts"), {"customer": late.pk}).content.decode()
    assert f'<option value="{late.pk}" selected>zzz Late</option>' in html
    assert "late-one" in html
    foreign = CustomerFactory(company_name="Elsewhere Inc")
    html = admin_client.get(reverse("cloud:accounts"), {"customer": foreign.pk}).content.decode()
    assert "Elsewhere Inc" not in html


def test_select_all_matching_is_offered_when_the_filter_has_more_than_a_page(admin_client, management):
    _members(management, 12)
    url = reverse("cloud:members", kwargs={"account_id": management.pk})
    html = admin_client.get(url, {"per_page": "10"}).content.decode()
    assert "Select all 12 accounts matching this filter" in html
    assert 'name="all_matching" value="1" data-all-matching' in html
    assert "Select all 12" not in admin_client.get(url, {"per_page": "25"}).content.decode()


def test_link_to_customer_on_all_matching_links_every_page_of_them(admin_client, management, customer):
    prod = _members(management, 12, ou_path="Root/Prod")
    other = _members(management, 2, ou_path="Root/Dev")
    match = f"parent={management.pk}&ou=Root/Prod"
    dialog = admin_client.get(reverse("cloud:link"), {"all_matching": "1", "match": match}, **HTMX).content.decode()
    assert "All 12 accounts matching the filter selected." in dialog
    assert 'name="all_matching" value="1"' in dialog
    assert not _rows(dialog)  # no ids travel: the filter is evaluated again on FINISH
    seen = re.search(r'name="seen_state" value="([0-9a-f]+)"', dialog).group(1)
    body = {"all_matching": "1", "match": match, "customer": customer.pk, "seen_state": seen}
    response = admin_client.post(reverse("cloud:link"), body, **HTMX)
    assert response.status_code == 200, response.content
    assert "12 account(s) linked to Acme" in response.content.decode()
    linked = set(
        CloudAccount.objects.for_tenant(management.tenant).filter(customer=customer).values_list("pk", flat=True)
    )
    assert linked == {a.pk for a in prod}
    assert all(CloudAccount.unscoped.get(pk=a.pk).customer_id is None for a in other)


def test_all_matching_refuses_when_the_matching_accounts_changed_since_the_dialog(admin_client, management, customer):
    _members(management, 3, ou_path="Root/Prod")
    match = f"parent={management.pk}&ou=Root/Prod"
    dialog = admin_client.get(reverse("cloud:link"), {"all_matching": "1", "match": match}, **HTMX).content.decode()
    seen = re.search(r'name="seen_state" value="([0-9a-f]+)"', dialog).group(1)
    _members(management, 1, ou_path="Root/Prod/New")  # a sync found one more meanwhile
    body = {"all_matching": "1", "match": match, "customer": customer.pk, "seen_state": seen}
    response = admin_client.post(reverse("cloud:link"), body, **HTMX)
    assert response.status_code == 409
    assert not CloudAccount.objects.for_tenant(management.tenant).filter(customer=customer).exists()


def test_remove_on_all_matching(admin_client, management, customer):
    _members(management, 4, customer=customer)
    keep = _members(management, 1, customer=customer, ou_path="Root/Keep")
    match = f"parent={management.pk}&customer={customer.pk}&q=&ou="
    dialog = admin_client.get(reverse("cloud:unlink"), {"all_matching": "1", "match": match}, **HTMX).content.decode()
    assert "Remove the 5 matching accounts" in dialog
    match = f"parent={management.pk}&customer={customer.pk}&ou=Root/Prod"
    CloudAccount.unscoped.exclude(pk=keep[0].pk).update(ou_path="Root/Prod")
    response = admin_client.post(reverse("cloud:unlink"), {"all_matching": "1", "match": match}, **HTMX)
    assert "4 accounts removed from their customers." in response.content.decode()
    assert list(CloudAccount.objects.for_tenant(management.tenant).filter(customer=customer)) == keep


def test_a_match_naming_another_tenant_selects_nothing_of_it(admin_client, tenant, customer):
    theirs = CloudAccountFactory(customer=CustomerFactory(company_name="Theirs"))
    match = f"customer={theirs.customer_id}"
    dialog = admin_client.get(reverse("cloud:link"), {"all_matching": "1", "match": match}, **HTMX)
    assert dialog.status_code == 400
    assert "No account matches this filter." in dialog.content.decode()
    response = admin_client.post(
        reverse("cloud:link"), {"all_matching": "1", "match": match, "customer": customer.pk}, **HTMX
    )
    assert response.status_code == 400
    assert CloudAccount.unscoped.get(pk=theirs.pk).customer_id == theirs.customer_id


def test_validate_roles_starts_a_job_whose_page_lists_each_result_and_retries_the_failed(admin_client, tenant):
    accounts = CloudAccountFactory.create_batch(3, tenant=tenant)
    dialog = admin_client.get(reverse("cloud:bulk_validate"), {"accounts": [a.pk for a in accounts]}, **HTMX)
    assert "3 accounts selected." in dialog.content.decode()
    response = admin_client.post(reverse("cloud:bulk_validate"), {"accounts": [a.pk for a in accounts]}, **HTMX)
    job = Job.objects.for_tenant(tenant).get()
    assert (job.kind, job.total, job.params["bulk"]) == (JobKind.VALIDATE, 3, True)
    assert f'id="job-{job.pk}"' in response.content.decode()
    assert "0 of 3 account(s) done" in response.content.decode()
    Job.unscoped.filter(pk=job.pk).update(
        state=JobState.SUCCEEDED,
        done=3,
        result={
            "checked": 3,
            "ok": 1,
            "failed": 2,
            "accounts": [
                {"id": accounts[0].pk, "account_id": accounts[0].account_id, "name": "a", "ok": True, "message": "ok"},
                {
                    "id": accounts[1].pk,
                    "account_id": accounts[1].account_id,
                    "name": "b",
                    "ok": False,
                    "message": "AssumeRole failed: denied",
                },
                {
                    "id": accounts[2].pk,
                    "account_id": accounts[2].account_id,
                    "name": "c",
                    "ok": False,
                    "message": "no role",
                },
            ],
        },
    )
    page = admin_client.get(reverse("cloud:job", kwargs={"job_id": job.pk})).content.decode()
    assert "Done: 3 account(s), 1 working, 2 failed." in page
    assert "AssumeRole failed: denied" in page
    assert page.index("AssumeRole failed: denied") < page.index("Working")  # the failed ones first
    assert "Retry the failed ones" in page
    retried = admin_client.post(reverse("cloud:job_retry", kwargs={"job_id": job.pk}), **HTMX)
    assert retried.status_code == 200
    retry = Job.objects.for_tenant(tenant).exclude(pk=job.pk).get()
    assert retry.params["accounts"] == [accounts[1].pk, accounts[2].pk]


def test_onboard_accounts_on_all_matching_starts_one_job(admin_client, management):
    _members(management, 12)
    match = f"parent={management.pk}"
    dialog = admin_client.get(reverse("cloud:bulk_onboard"), {"all_matching": "1", "match": match}, **HTMX)
    assert "All 12 accounts matching the filter selected." in dialog.content.decode()
    body = {"all_matching": "1", "match": match, "role_name": "Bulk Role"}
    refused = admin_client.post(reverse("cloud:bulk_onboard"), body, **HTMX)
    assert refused.status_code == 422
    assert "Up to 64 letters" in refused.content.decode()
    admin_client.post(reverse("cloud:bulk_onboard"), {**body, "role_name": "BulkRole"}, **HTMX)
    job = Job.objects.for_tenant(management.tenant).get()
    assert (job.kind, job.total, job.params["role_name"]) == (JobKind.ONBOARD, 12, "BulkRole")


# The customer picker of Link to Customer ---------------------------------------------------------


def test_the_link_dialog_lists_a_page_of_customers_and_the_picker_searches_them_all(admin_client, tenant):
    account = CloudAccountFactory(tenant=tenant)
    CustomerFactory.create_batch(60, tenant=tenant)
    target = CustomerFactory(tenant=tenant, company_name="Zebra Holdings")
    dialog = admin_client.get(reverse("cloud:link"), {"accounts": [account.pk]}, **HTMX).content.decode()
    assert "Search customers" in dialog
    assert dialog.count("<option value=") == 51  # the placeholder and the first 50
    assert "More than 50 customers" in dialog
    assert "Zebra Holdings" not in dialog
    found = admin_client.get(reverse("cloud:link_customers"), {"customer_q": "zebra"}, **HTMX).content.decode()
    assert "Select a customer to associate with the accounts" in found
    assert f'<option value="{target.pk}" selected>Zebra Holdings</option>' in found  # the one match, chosen
    assert "1 customer matches “zebra”." in found
    # The choice survives a search that does not find it, and FINISH takes it.
    kept = admin_client.get(reverse("cloud:link_customers"), {"customer_q": "nothing", "customer": target.pk}, **HTMX)
    assert f'<option value="{target.pk}" selected>Zebra Holdings</option>' in kept.content.decode()
    body = {"accounts": [account.pk], "customer": target.pk, "customer_q": "nothing"}
    response = admin_client.post(reverse("cloud:link"), body, **HTMX)
    assert "1 account(s) linked to Zebra Holdings" in response.content.decode()


def test_the_picker_never_offers_another_tenants_customer(admin_client, tenant):
    foreign = CustomerFactory(company_name="Foreign Co")
    html = admin_client.get(
        reverse("cloud:link_customers"), {"customer_q": "Foreign", "customer": foreign.pk}, **HTMX
    ).content.decode()
    assert "Foreign Co" not in html
    assert "0 customers match" in html


def test_all_matching_on_an_unfiltered_list_carries_its_scope_not_every_id(admin_client, management):
    """Review: an unfiltered list's match was empty, and the dialog then carried every id."""
    _members(management, 30)
    html = admin_client.get(reverse("cloud:accounts"), {"per_page": 10}).content.decode()
    assert _match(html) == {"scope": ["all"]}
    dialog = admin_client.get(
        reverse("cloud:link"), {"all_matching": "1", "match": "scope=all"}, **HTMX
    ).content.decode()
    assert "All 31 accounts matching the filter selected." in dialog  # the members and their MSP account
    assert _rows(dialog) == set()


@pytest.mark.parametrize(
    "match",
    ["scope=all&q=%00", "scope=all&ou=Root%00", "scope=all&q=" + "x" * 5000, "scope=all&ou=" + "\u00e9" * 3000],
)
def test_a_match_with_a_control_character_or_too_long_is_refused_clearly(admin_client, management, customer, match):
    _members(management, 3)
    before = list(CloudAccount.objects.for_tenant(management.tenant).values_list("pk", "customer_id"))
    for response in (
        admin_client.get(reverse("cloud:link"), {"all_matching": "1", "match": match}, **HTMX),
        admin_client.post(
            reverse("cloud:link"), {"all_matching": "1", "match": match, "customer": customer.pk}, **HTMX
        ),
    ):
        assert 400 <= response.status_code < 500, response.status_code
    assert list(CloudAccount.objects.for_tenant(management.tenant).values_list("pk", "customer_id")) == before


def test_the_ou_filter_is_the_ou_and_below_it(admin_client, management):
    inside = _members(management, 1, ou_path="Root/Prod")[0]
    below = _members(management, 1, ou_path="Root/Prod/Web")[0]
    _members(management, 1, ou_path="Root/Production")
    _members(management, 1, ou_path="root/prod")
    html = admin_client.get(reverse("cloud:members", kwargs={"account_id": management.pk}), {"ou": "Root/Prod"})
    shown = set(re.findall(r'value="(\d+)" aria-label', html.content.decode())) or _rows(html.content.decode())
    assert {int(pk) for pk in shown} == {inside.pk, below.pk}


def test_the_customer_search_of_the_picker_ignores_a_control_character(admin_client, management, customer):
    # In a query string the middleware refuses it; in a form body the picker ignores it.
    response = admin_client.get(reverse("cloud:link_customers"), {"customer_q": "Ac\x00me"}, **HTMX)
    assert response.status_code == 400
    member = _members(management, 1)[0]
    response = admin_client.post(reverse("cloud:link"), {"accounts": [member.pk], "customer_q": "Ac\x00me"}, **HTMX)
    assert response.status_code == 422
    assert customer.company_name in response.content.decode()
