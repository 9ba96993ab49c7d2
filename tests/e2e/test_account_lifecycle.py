"""Accounts over their life in AWS (SPEC section 8) in a real browser, at a phone's width and
two desktop widths: the AWS state badges and filter, the reason an account cannot be onboarded,
and the CloudFormation and StackSet templates downloaded from the setup windows. Each page's
changed region is checked with axe-core (no serious or critical WCAG 2.1 A/AA finding). Set
E2E_SCREENSHOTS=/some/dir to keep a screenshot of each page at each width."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import reverse
from playwright.sync_api import expect

from cloudmsp.cloud.models import CloudAccount
from cloudmsp.cloud.services import sync
from cloudmsp.cloud.services.accounts import account_connect, account_create
from cloudmsp.demo import emulator
from tests.cloud.conftest import MANAGEMENT_ACCOUNT, create_portal_role, make_org
from tests.e2e.support import dialog, look, sign_in
from tests.e2e.test_account_management import row, three_dots
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)


@pytest.fixture
def organization(aws, admin):
    org = make_org(aws, members=6)
    members = sorted(org.members)
    org.org_client().close_account(AccountId=members[0])
    emulator.set_account_state(members[1], "CLOSED")
    management = account_create(actor=admin, category="msp", account_id=MANAGEMENT_ACCOUNT, name="Payer")
    arn = create_portal_role(aws, MANAGEMENT_ACCOUNT, management.external_id)
    assert account_connect(actor=admin, account=management, role_arn=arn).ok
    management.refresh_from_db()
    sync.organization_sync(sync.sync_start(actor=admin, account=management))
    return management, members


@pytest.mark.parametrize("width", WIDTHS)
def test_states_badges_filter_and_templates(live_server, admin, organization, new_page, browser_errors, width):
    management, members = organization
    suspended, closed, active = members[0], members[1], members[2]
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)

    # Manage Customer Accounts: a badge for each account that is not Active, and why it cannot
    # be onboarded in its three dots.
    page.goto(base + reverse("cloud:members", kwargs={"account_id": management.pk}))
    expect(row(page, suspended).locator(".badge.bad")).to_have_text("Suspended")
    expect(row(page, closed).locator(".badge.bad")).to_have_text("Closed")
    expect(row(page, active).locator(".badge.bad")).to_have_count(0)
    menu = three_dots(page, suspended)
    expect(menu).to_contain_text("Onboard Account: not possible while the account is suspended in AWS.")
    expect(menu.get_by_role("link", name="Onboard Account")).to_have_count(0)
    look(page, f"lifecycle-members-{width}")
    page.keyboard.press("Escape")

    # All accounts, filtered on the AWS state from the toolbar's select (the search toolbar's:
    # the Columns chooser has an "AWS state" box too).
    page.goto(base + reverse("cloud:accounts"))
    page.get_by_role("search").get_by_label("AWS state").select_option("SUSPENDED")
    expect(page).to_have_url(re.compile(r"[?&]aws_state=SUSPENDED(&|$)"))
    expect(page.locator("#account-table tbody tr")).to_have_count(1)
    expect(row(page, suspended)).to_be_visible()
    look(page, f"lifecycle-all-accounts-suspended-{width}")
    page.get_by_role("search").get_by_label("AWS state").select_option("PENDING_CLOSURE")
    expect(page.get_by_text("No account matches the AWS state filter.")).to_be_visible()

    # The onboard window of an Active member: its template, downloaded as .yaml.
    page.goto(base + reverse("cloud:members", kwargs={"account_id": management.pk}))
    three_dots(page, active).get_by_role("link", name="Onboard Account").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Onboard Member Account")).to_be_visible()
    modal.get_by_role("radio", name=re.compile(r"^Manual")).check()  # the template is the manual method's
    modal.get_by_text("CloudFormation template", exact=True).click()
    with page.expect_download() as download:
        modal.get_by_role("button", name="Download template (.yaml)").click()
    member = CloudAccount.unscoped.get(account_id=active)
    assert download.value.suggested_filename == f"cloudmsp-role-{active}.yaml"
    template = yaml.safe_load(download.value.path().read_text())
    trust = template["Resources"]["CloudMSPRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == member.external_id
    look(page, f"lifecycle-onboard-window-{width}")
    modal.get_by_role("button", name="Cancel").click()

    # The MSP account's setup window: the StackSet template for every member.
    page.goto(base + reverse("cloud:msp"))
    three_dots(page, MANAGEMENT_ACCOUNT).get_by_role("link", name="Change Role ARN").click()
    modal = dialog(page)
    modal.get_by_text("StackSet template: the role in every member account").click()
    with page.expect_download() as download:
        modal.get_by_role("button", name="Download StackSet template (.yaml)").click()
    assert download.value.suggested_filename == f"cloudmsp-stackset-{MANAGEMENT_ACCOUNT}.yaml"
    assert "${AWS::AccountId}" in download.value.path().read_text()
    look(page, f"lifecycle-connect-stackset-{width}")
    assert browser_errors == []
