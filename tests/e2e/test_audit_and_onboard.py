"""Issue 15, defects 3 and 8 in a real browser: the Onboard Member Account window shows only what
the chosen method needs (switching methods, and after a refused Add); the audit log fits the
screen with names instead of ids. axe-core checks both. Set E2E_SCREENSHOTS=/some/dir to keep a
screenshot of each."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cloudmsp.cloud.models import Category, Kind, OnboardingStatus
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def member(admin):
    management = CloudAccountFactory(
        tenant=admin.tenant,
        account_id="310000000000",
        name="payer",
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        role_arn="arn:aws:iam::310000000000:role/CloudMSPPortal",
        onboarding_status=OnboardingStatus.ONBOARDED,
    )
    return CloudAccountFactory(
        tenant=admin.tenant,
        account_id="310000000001",
        name="invited-member",
        category=Category.MSP,
        kind=Kind.MEMBER,
        parent=management,
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_onboard_window_shows_what_the_chosen_method_needs(
    live_server, admin, member, new_page, browser_errors, width, settings
):
    # The window names the portal's AWS account; without it configured, each render (the window,
    # then its 422) asked AWS's public endpoint for the portal's identity, unreachable from here,
    # and waited out its retries: the 422 once took longer than the assertion waits.
    settings.PORTAL_AWS_ACCOUNT_ID = "999988887777"
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)
    page.goto(base + reverse("cloud:members", kwargs={"account_id": member.parent_id}))
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=member.account_id, exact=True))
    row.get_by_role("button", name=f"Actions for account {member.account_id}").click()
    # The list is placed over the page once it is open (app.js): click its entry only then.
    expect(row.locator("details.row-menu[open] > ul.placed")).to_be_visible()
    row.get_by_role("link", name="Onboard Account").click()
    modal = dialog(page)
    # (Once in CI the window had not opened within the default 5 s, the suite's whole load on
    # two cores; the window opens from one GET.)
    expect(modal.get_by_role("heading", name="Onboard Member Account")).to_be_visible(timeout=15_000)
    automatic = modal.get_by_role("radio", name=re.compile(r"^Automatic"))
    manual = modal.get_by_role("radio", name=re.compile(r"^Manual"))
    hint = modal.locator("#method-automatic-hint")
    arn = modal.get_by_label("Role ARN (manual method)")
    trust = modal.get_by_text("Trust policy", exact=True)
    template = modal.get_by_text("CloudFormation template", exact=True)

    # First render: automatic, so only its hint.
    expect(automatic).to_be_checked()
    expect(hint).to_be_visible()
    for part in (arn, trust, template):
        expect(part).to_be_hidden()
    look(page, f"onboard-automatic-{width}")

    # Manual: the template, trust policy and Role ARN field, not the automatic hint.
    manual.check()
    expect(hint).to_be_hidden()
    for part in (arn, trust, template):
        expect(part).to_be_visible()
    look(page, f"onboard-manual-{width}")

    # Back to automatic, and manual again, then Add with no ARN: the 422 keeps manual's parts.
    automatic.check()
    expect(arn).to_be_hidden()
    expect(hint).to_be_visible()
    manual.check()
    modal.get_by_role("button", name="Add").click()
    expect(modal.get_by_text("Paste the Role ARN")).to_be_visible()
    expect(modal.get_by_role("radio", name=re.compile(r"^Manual"))).to_be_checked()
    expect(modal.get_by_label("Role ARN (manual method)")).to_be_visible()
    expect(modal.locator("#method-automatic-hint")).to_be_hidden()
    look(page, f"onboard-manual-error-{width}")
    # The refused Add's answer (422) is expected; anything else (a CSP refusal) fails the test.
    assert [e for e in browser_errors if "status of 422" not in e] == []


@pytest.fixture
def trail(admin):
    from cloudmsp.audit.models import AuditEvent
    from tests.factories import CustomerFactory

    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")
    account = CloudAccountFactory(tenant=admin.tenant, account_id="320000000001", name="acme-production-" + "x" * 60)
    long_arn = "arn:aws:iam::320000000001:role/" + "VeryLongRoleName" * 8
    for action, changes in (
        ("cloud_account.link", {"customer": [None, acme.pk]}),
        ("cloud_account.connect", {"role_arn": [None, long_arn]}),
        ("cloud_account.remove_role", {"role_arn": [long_arn, None]}),
    ):
        AuditEvent.unscoped.create(
            tenant=admin.tenant,
            actor=admin,
            actor_email="a-rather-long-administrator-address@managed-service-provider.example",
            action=action,
            object_type="cloudaccount",
            object_id=str(account.pk),
            object_repr=str(account),
            changes=changes,
            message="The role was not created by the portal, so it stays in AWS; delete it there if it is no longer needed."
            if action.endswith("remove_role")
            else "",
        )
    return acme, long_arn


@pytest.mark.parametrize("width", [390, 1280, 1440])
def test_the_audit_log_fits_the_screen_and_names_what_changed(
    live_server, admin, trail, new_page, browser_errors, width
):
    _acme, long_arn = trail
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)
    page.goto(base + reverse("audit:list"))
    table = page.locator("#audit-table .table-scroll > table")
    expect(table.locator("tbody tr")).to_have_count(3)
    link = table.locator("tbody tr").filter(has_text="cloud_account.link")
    expect(link).to_contain_text("Cloud account")
    expect(link).to_contain_text("Customer: — → Acme Corporation")
    long_value = table.locator(f'.audit-value[title="{long_arn}"]').first
    expect(long_value).to_be_visible()
    look(page, f"audit-log-{width}")
    # (look() also checks that the page does not scroll sideways, at every width.)
    width_of_value = page.evaluate(
        """() => document.querySelector('.audit-value[title^="arn:"]').getBoundingClientRect().width"""
    )
    assert width_of_value < 300  # cut, the whole ARN in its tooltip
    assert browser_errors == []
