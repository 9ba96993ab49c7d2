"""Help page 000, "Managing Customer Accounts", followed step by step in a real browser.

The tenant administrator adds the AWS Organization's management account as an MSP account (its
member accounts are discovered by a sync job), then, from ADMINISTRATION > ACCOUNT MANAGEMENT >
AWS > MSP > the three dots icon > Manage Customer Accounts, associates two member accounts with a
customer created on the way, removes one of them from the customer again, onboards a member
account (the portal creates its role) and unlinks it (Remove Role ARN). Every step is checked on
the page, in the AWS emulator and in the database; the jobs run on a real django-tasks-db worker.
Set E2E_SCREENSHOTS=/some/dir to keep a screenshot of each step.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount, Job, JobKind, JobState, Kind, OnboardingStatus
from cloudmsp.customers.models import Customer
from tests.cloud.conftest import MANAGEMENT_ACCOUNT, create_portal_role, make_org
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

MEMBERS = 6
# A job's progress bar polls every second; the worker polls every 0.2 s.
JOB_TIMEOUT_MS = 20_000


def row(page: Page, account_id: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=account_id, exact=True))


def three_dots(page: Page, account_id: str) -> Locator:
    """Open the three dots icon of an account's row; returns its list of actions."""
    dots = row(page, account_id).get_by_role("button", name=f"Actions for account {account_id}")
    dots.click()
    menu = row(page, account_id).get_by_role("list")
    expect(menu).to_be_visible()
    return menu


def open_manage_customer_accounts(page: Page, base: str, shots: str = "") -> None:
    """Steps 2-6 of every procedure on page 000 (screenshots named `shots`-... if given)."""
    # 2. ADMINISTRATION > ACCOUNT MANAGEMENT: the list of accounts is displayed.
    top = page.get_by_role("navigation", name="Main")
    top.get_by_text("Administration", exact=True).click()
    expect(top.get_by_role("link", name="Account Management")).to_be_visible()
    if shots:
        look(page, f"e2e000-{shots}a-administration-menu")
    top.get_by_role("link", name="Account Management").click()
    expect(page).to_have_url(base + reverse("cloud:accounts"))
    expect(page.get_by_role("heading", name="Account Management", level=1)).to_be_visible()
    expect(row(page, MANAGEMENT_ACCOUNT)).to_have_count(1)
    # 3. In the left navigation panel, expand AWS: MSP and Non-MSP are displayed.
    side = page.get_by_role("navigation", name="Account navigation")
    expect(side.get_by_role("link", name="MSP", exact=True)).to_be_hidden()
    side.get_by_text("AWS", exact=True).click()
    expect(side.get_by_role("link", name="MSP", exact=True)).to_be_visible()
    expect(side.get_by_role("link", name="Non-MSP", exact=True)).to_be_visible()
    if shots:
        look(page, f"e2e000-{shots}b-aws-expanded")
    # 4. Select MSP: the MSP accounts in a table.
    side.get_by_role("link", name="MSP", exact=True).click()
    expect(page.get_by_role("heading", name="MSP accounts", level=1)).to_be_visible()
    expect(row(page, MANAGEMENT_ACCOUNT)).to_contain_text("Payer")
    # 5. The three dots icon of the MSP account's row: a list is displayed.
    menu = three_dots(page, MANAGEMENT_ACCOUNT)
    if shots:
        look(page, f"e2e000-{shots}c-msp-three-dots")
    # 6. Manage Customer Accounts: the member accounts.
    menu.get_by_role("link", name="Manage Customer Accounts").click()
    expect(page.get_by_role("heading", name="Manage Customer Accounts", level=1)).to_be_visible()


def wait_for_job(page: Page, done_text: str) -> None:
    """The job's dialog: a progress bar, then the result."""
    modal = dialog(page)
    expect(modal.get_by_role("progressbar")).to_be_visible()
    expect(modal.get_by_text(done_text)).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(modal.get_by_role("progressbar")).to_have_attribute("value", "1")


def test_help_page_000_managing_customer_accounts(
    live_server, aws, settings, tenant, admin, new_page, browser_errors, task_worker
):
    base = live_server.url
    settings.AWS_NEW_ROLE_WAIT_SECONDS = 2  # the emulator's new roles are assumable at once
    org = make_org(aws, members=MEMBERS)
    members = sorted(org.members)

    # 1. Login to the portal as an admin.
    page = new_page()
    sign_in(page, base, admin.email, PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Administration")

    # --- Set-up: add the organization's management account as an MSP account --------------------
    page.goto(base + reverse("cloud:msp"))
    expect(page.get_by_text("No MSP accounts yet")).to_be_visible()
    page.get_by_role("button", name="Add MSP account").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Add MSP account")).to_be_visible()
    expect(modal.get_by_label("Account ID")).to_be_focused()
    modal.get_by_label("Account ID").fill(MANAGEMENT_ACCOUNT)
    modal.get_by_label("Name").fill("Payer")
    modal.get_by_role("button", name="Next").click()
    expect(modal.get_by_role("heading", name=f"Connect {MANAGEMENT_ACCOUNT}")).to_be_visible()
    external_id = modal.get_by_label("External ID").input_value()
    management = CloudAccount.objects.for_tenant(tenant).get(account_id=MANAGEMENT_ACCOUNT)
    assert management.external_id == external_id
    assert len(external_id) >= 32
    # The administrator creates the role in AWS with the trust policy shown, then pastes its ARN.
    role_arn = create_portal_role(aws, MANAGEMENT_ACCOUNT, external_id)
    look(page, "e2e000-01-connect-msp-account")
    modal.get_by_label("Role ARN").fill(role_arn)
    modal.get_by_role("button", name="Connect").click()
    wait_for_job(page, f"Done: {MEMBERS} member account(s) found, {MEMBERS} new")
    look(page, "e2e000-02-sync-done")
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()
    management.refresh_from_db()
    assert (management.kind, management.role_arn, management.onboarding_status) == (
        Kind.MANAGEMENT,
        role_arn,
        OnboardingStatus.ONBOARDED,
    )
    discovered = CloudAccount.objects.for_tenant(tenant).filter(parent=management)
    assert sorted(discovered.values_list("account_id", flat=True)) == members
    assert {a.account_id: a.ou_path for a in discovered} == org.ou_of
    expect(row(page, MANAGEMENT_ACCOUNT).get_by_role("cell").nth(2)).to_have_text(str(MEMBERS))

    # --- Steps 2-6: ADMINISTRATION > ACCOUNT MANAGEMENT > AWS > MSP > ... > Manage Customer Accounts
    open_manage_customer_accounts(page, base, shots="03")
    look(page, "e2e000-03d-manage-customer-accounts")
    for account_id in members:
        expect(row(page, account_id)).to_contain_text("Not onboarded")
    first, second, third = members[:3]

    # --- Associating Account: check two, Associate Account to Customer --------------------------
    select_all = page.get_by_label("Select all accounts on this page")
    select_all.check()
    for account_id in members:
        expect(page.get_by_label(f"Select account {account_id}")).to_be_checked()
    expect(page.get_by_text(f"{MEMBERS} selected")).to_be_visible()
    select_all.uncheck()
    for account_id in members:
        expect(page.get_by_label(f"Select account {account_id}")).not_to_be_checked()
    page.get_by_label(f"Select account {first}").check()
    page.get_by_label(f"Select account {second}").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.get_by_role("button", name="Associate Account to Customer").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Link to Customer")).to_be_visible()
    expect(modal).to_contain_text("2 accounts selected")
    dropdown = modal.get_by_label("Select a customer to associate with the accounts")
    expect(dropdown).to_be_visible()
    look(page, "e2e000-04-link-to-customer")
    # CREATE CUSTOMER: the Create Customer window.
    modal.get_by_role("button", name="Create Customer").click()
    expect(modal.get_by_role("heading", name="Create Customer")).to_be_visible()
    expect(modal.get_by_label("Company name")).to_be_focused()
    modal.get_by_label("Company name").fill("Wayne Enterprises")
    modal.get_by_label("First name").fill("Bruce")
    modal.get_by_label("Last name").fill("Wayne")
    modal.get_by_label("Email").fill("bruce@wayne.test")
    look(page, "e2e000-05-create-customer")
    modal.get_by_role("button", name="Create Customer").click()
    # The customer is created and selected in the dropdown.
    expect(modal.get_by_role("heading", name="Link to Customer")).to_be_visible()
    expect(modal.get_by_text("Customer Wayne Enterprises created.")).to_be_visible()
    customer = Customer.objects.for_tenant(tenant).get(company_name="Wayne Enterprises")
    assert (customer.first_name, customer.last_name, customer.email) == ("Bruce", "Wayne", "bruce@wayne.test")
    dropdown = modal.get_by_label("Select a customer to associate with the accounts")
    expect(dropdown).to_have_value(str(customer.pk))
    expect(dropdown.locator("option:checked")).to_have_text("Wayne Enterprises")
    look(page, "e2e000-06-customer-selected")
    # FINISH: the accounts are linked to the customer.
    modal.get_by_role("button", name="Finish").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text("2 account(s) linked to Wayne Enterprises")
    expect(row(page, first)).to_contain_text("Wayne Enterprises")
    expect(row(page, second)).to_contain_text("Wayne Enterprises")
    expect(row(page, third)).not_to_contain_text("Wayne Enterprises")
    expect(page.get_by_label(f"Select account {first}")).not_to_be_checked()
    expect(page.get_by_text("2 selected")).to_be_hidden()
    look(page, "e2e000-07-linked")
    linked = CloudAccount.objects.for_tenant(tenant).filter(customer=customer)
    assert sorted(linked.values_list("account_id", flat=True)) == [first, second]

    # --- Removing an Account: check one, Remove Account from Customer, REMOVE --------------------
    page.get_by_label(f"Select account {second}").check()
    page.get_by_role("button", name="Remove Account from Customer").click()
    expect(modal.get_by_role("heading", name="Remove Account from Customer")).to_be_visible()
    expect(modal).to_contain_text("Remove the 1 selected account from its customer?")
    look(page, "e2e000-08-remove-from-customer")
    modal.get_by_role("button", name="Remove", exact=True).click()
    expect(modal).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text("1 account removed from its customer.")
    expect(row(page, second)).not_to_contain_text("Wayne Enterprises")
    expect(row(page, first)).to_contain_text("Wayne Enterprises")
    linked = CloudAccount.objects.for_tenant(tenant).filter(customer=customer)
    assert list(linked.values_list("account_id", flat=True)) == [first]

    # --- Onboarding an Account: steps 1-6 again, then the three dots icon, Onboard Account -------
    page.goto(base + reverse("customers:list"))  # start again from another page
    open_manage_customer_accounts(page, base)
    assert "CloudMSPAccess" not in org.iam_roles(third)
    page.get_by_label(f"Select account {third}").check()
    menu = three_dots(page, third)
    look(page, "e2e000-09-three-dots-not-onboarded")
    expect(menu.get_by_role("link", name="Remove Role ARN")).to_have_count(0)
    menu.get_by_role("link", name="Onboard Account").click()
    expect(modal.get_by_role("heading", name="Onboard Member Account")).to_be_visible()
    expect(menu).to_be_hidden()  # the list closed behind the window
    expect(modal).to_contain_text(third)
    role_name = modal.get_by_label("Role name")
    expect(role_name).to_have_value("CloudMSPAccess")
    expect(role_name).to_be_focused()
    role_name.fill("CloudMSPAccess")
    automatic = modal.get_by_role("radio", name=re.compile(r"^Automatic"))
    expect(automatic).to_be_checked()
    look(page, "e2e000-10-onboard-member-account")
    modal.get_by_role("button", name="Add").click()
    # ADD: a progress bar, then the account is onboarded; the Role ARN creation is done.
    expected_arn = f"arn:aws:iam::{third}:role/CloudMSPAccess"
    wait_for_job(
        page, f"Done: the account is onboarded with {expected_arn}, created through OrganizationAccountAccessRole."
    )
    look(page, "e2e000-11-onboarded")
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()
    expect(row(page, third)).to_contain_text("Onboarded")
    expect(row(page, third)).not_to_contain_text("Not onboarded")
    expect(row(page, third)).to_contain_text(expected_arn)
    assert "CloudMSPAccess" in org.iam_roles(third)
    onboarded = CloudAccount.objects.for_tenant(tenant).get(account_id=third)
    assert (onboarded.role_arn, onboarded.onboarding_status, onboarded.role_created_by_portal) == (
        expected_arn,
        OnboardingStatus.ONBOARDED,
        True,
    )
    job = Job.objects.for_tenant(tenant).get(kind=JobKind.ONBOARD, account=onboarded)
    assert (job.state, job.done, job.total) == (JobState.SUCCEEDED, job.total, 4)

    # --- Unlinking Account: the three dots icon of the onboarded account, Remove Role ARN, Ok ----
    page.goto(base + reverse("customers:list"))  # start again from another page
    open_manage_customer_accounts(page, base)
    page.get_by_label(f"Select account {third}").check()
    menu = three_dots(page, third)
    expect(menu.get_by_role("link", name="Onboard Account")).to_have_count(0)
    expect(menu.get_by_role("link")).to_have_count(2)  # a menu with two entries
    look(page, "e2e000-12-three-dots-onboarded")
    menu.get_by_role("link", name="Remove Role ARN").click()
    expect(modal.get_by_role("heading", name="Remove Role ARN")).to_be_visible()
    expect(modal).to_contain_text(expected_arn)
    expect(modal).to_contain_text("deleted in AWS too")
    look(page, "e2e000-13-remove-role-arn")
    modal.get_by_role("button", name="Ok").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text(f"Account {third} is unlinked")
    expect(row(page, third)).to_contain_text("Not onboarded")
    expect(row(page, third)).not_to_contain_text(expected_arn)
    look(page, "e2e000-14-unlinked")
    assert "CloudMSPAccess" not in org.iam_roles(third)
    onboarded.refresh_from_db()
    assert (onboarded.role_arn, onboarded.onboarding_status, onboarded.role_created_by_portal) == (
        "",
        OnboardingStatus.NOT_ONBOARDED,
        False,
    )

    actions = set(AuditEvent.unscoped.filter(tenant=tenant).values_list("action", flat=True))
    assert {
        "cloud_account.create",
        "cloud_account.connect",
        "cloud_account.sync",
        "cloud_account.associate",
        "cloud_account.disassociate",
        "cloud_account.onboard",
        "cloud_account.remove_role",
        "customer.create",
    } <= actions

    assert browser_errors == [], "the browser reported errors:\n" + "\n".join(browser_errors)
