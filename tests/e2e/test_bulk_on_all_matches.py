"""Bulk on all matches (issue 14) in a real browser: Manage Customer Accounts filtered by an OU,
every row of the page checked, then "Select all N accounts matching this filter"; Link to
Customer's searchable customer picker (with more customers than a dropdown could list) links them
all; Validate Roles on all matching runs as a job whose result lists each account, with "Retry
the failed ones". Screenshots at 390, 1280 and 1440 px with E2E_SCREENSHOTS=/some/dir."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from cloudmsp.cloud.models import Category, CloudAccount, Job, JobKind, Kind
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)
PROD = 24
JOB_TIMEOUT_MS = 20_000


@pytest.fixture
def world(admin):
    management = CloudAccountFactory(
        tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id="111122223333", name="Payer"
    )
    for i in range(PROD + 6):
        CloudAccountFactory(
            tenant=admin.tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=management,
            account_id=f"3000000000{i:02d}",
            name=f"member-{i:02d}",
            ou_path="Root/Prod" if i < PROD else "Root/Dev",
        )
    CustomerFactory.create_batch(60, tenant=admin.tenant)
    zebra = CustomerFactory(tenant=admin.tenant, company_name="Zebra Holdings")
    return management, zebra


def _select_all_matching(page: Page, base: str, management, width: int) -> None:
    page.goto(base + reverse("cloud:members", kwargs={"account_id": management.pk}) + "?per_page=10")
    expect(page.get_by_role("heading", name="Manage Customer Accounts", level=1)).to_be_visible()
    page.get_by_label("OU path starts with").fill("Root/Prod")
    expect(page.get_by_text(f"1\u201310 of {PROD}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]ou=Root%2FProd"))
    expect(page.get_by_role("link", name="Reset filters")).to_be_visible()
    matching = page.get_by_label(f"Select all {PROD} accounts matching this filter")
    expect(matching).to_be_hidden()
    page.get_by_label("Select all accounts on this page").check()
    expect(page.get_by_text("10 selected")).to_be_visible()
    expect(matching).to_be_visible()
    matching.check()
    expect(page.get_by_text("All matching accounts selected")).to_be_visible()
    look(page, f"bulk-select-all-matching-{width}")


def _open_picker(page: Page, zebra) -> None:
    page.get_by_role("button", name="Associate Account to Customer").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Link to Customer")).to_be_visible()
    expect(modal).to_contain_text(f"All {PROD} accounts matching the filter selected.")
    search = modal.get_by_label("Search customers")
    expect(search).to_be_focused()
    dropdown = modal.get_by_label("Select a customer to associate with the accounts")
    expect(modal.get_by_text("More than 50 customers")).to_be_visible()
    expect(dropdown.locator("option", has_text="Zebra Holdings")).to_have_count(0)
    search.press_sequentially("zeb")
    expect(modal.get_by_text("1 customer matches “zeb”.")).to_be_visible()
    expect(dropdown).to_have_value(str(zebra.pk))
    expect(search).to_be_focused()  # typing goes on in the search box while the dropdown follows


def test_select_all_matching_then_link_with_the_customer_picker(live_server, admin, world, new_page, browser_errors):
    management, zebra = world
    base = live_server.url
    for width in WIDTHS:
        page = new_page(width=width)
        sign_in(page, base, admin.email, PASSWORD)
        _select_all_matching(page, base, management, width)
        _open_picker(page, zebra)
        look(page, f"bulk-link-picker-{width}")
        if width != WIDTHS[-1]:
            page.close()
    modal = dialog(page)
    modal.get_by_role("button", name="Finish").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text(f"{PROD} account(s) linked to Zebra Holdings")
    linked = CloudAccount.objects.for_tenant(admin.tenant).filter(customer=zebra)
    assert linked.count() == PROD
    assert set(linked.values_list("ou_path", flat=True)) == {"Root/Prod"}
    look(page, "bulk-linked-1440")
    assert browser_errors == []


def test_validate_roles_on_all_matching_is_a_job_with_a_result_and_a_retry(
    live_server, admin, world, new_page, browser_errors, task_worker
):
    management, _zebra = world
    base = live_server.url
    page = new_page(width=1280)
    sign_in(page, base, admin.email, PASSWORD)
    _select_all_matching(page, base, management, 1280)
    page.get_by_role("button", name="Validate Roles").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Validate Roles")).to_be_visible()
    expect(modal).to_contain_text(f"All {PROD} accounts matching the filter selected.")
    modal.get_by_role("button", name="Validate", exact=True).click()
    expect(modal.get_by_text(f"Done: {PROD} account(s), 0 working, {PROD} failed.")).to_be_visible(
        timeout=JOB_TIMEOUT_MS
    )
    expect(modal.get_by_role("table", name="Result per account").get_by_role("row")).to_have_count(PROD + 1)
    expect(modal).to_contain_text("no Role ARN to validate")
    look(page, "bulk-validate-result-1280")
    first = Job.objects.for_tenant(admin.tenant).get(kind=JobKind.VALIDATE)
    modal.get_by_role("button", name="Retry the failed ones").click()
    # The retry's own job replaces this one in the dialog.
    expect(modal.locator(f"#job-{first.pk}")).to_have_count(0)
    expect(modal.get_by_text(f"Done: {PROD} account(s), 0 working, {PROD} failed.")).to_be_visible(
        timeout=JOB_TIMEOUT_MS
    )
    retry = Job.objects.for_tenant(admin.tenant).exclude(pk=first.pk).get(kind=JobKind.VALIDATE)
    assert retry.params["retry_of"] == first.pk
    assert retry.params["accounts"] == first.params["accounts"]
    assert browser_errors == []
