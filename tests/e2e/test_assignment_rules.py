"""Auto-assignment rules (SPEC 10) in a real browser at a phone's width and two desktop widths:
a rule previewed before it is saved (an error first, then the accounts it would assign), saved,
and applied by the real task worker, with the job's progress dialog. Each page and dialog is
checked with axe-core. Set E2E_SCREENSHOTS=/some/dir to keep a screenshot of each."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cloudmsp.cloud.models import Category, CloudAccount, Kind
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)


@pytest.fixture
def organization(admin):
    payer = CloudAccountFactory(
        tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT, name="Payer", account_id="310000000000"
    )
    for i, path in enumerate(["Root/Production", "Root/Production/Web", "Root/Production", "Root/Dev"]):
        CloudAccountFactory(
            tenant=admin.tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=payer,
            account_id=f"31000000000{i + 1}",
            name=f"shop-{i}",
            ou_path=path,
        )
    return CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_rule_is_previewed_saved_and_applied(
    live_server, admin, organization, task_worker, new_page, browser_errors, width
):
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)
    page.goto(base + reverse("cloud:rule_list"))
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    look(page, f"rules-empty-{width}")

    page.get_by_role("button", name="Create assignment rule").click()
    modal = dialog(page)
    modal.get_by_role("textbox", name="Name:", exact=True).fill("Production to Acme")
    modal.get_by_label("Assign to customer").select_option(label="Acme Corporation")
    modal.get_by_role("button", name="Preview").click()
    expect(modal.get_by_text("Give at least one condition")).to_be_visible()
    modal.get_by_label("OU path prefix").fill("Root/Production")
    modal.get_by_role("button", name="Preview").click()
    expect(modal.get_by_text("accounts match this rule")).to_be_visible()
    expect(modal.locator("#form-preview tbody tr")).to_have_count(3)
    look(page, f"rules-preview-{width}")
    modal.get_by_role("button", name="Create", exact=True).click()

    panel = page.locator("#details-panel")
    expect(panel.get_by_text("Rule created.")).to_be_visible()
    expect(page.locator("#assignment-rule-table tbody tr")).to_have_count(1)
    look(page, f"rules-created-{width}")
    panel.get_by_role("button", name="Apply now to 3 accounts").click()
    modal = dialog(page)
    expect(modal.get_by_text("3 account(s) assigned or moved")).to_be_visible(timeout=15_000)
    look(page, f"rules-applied-{width}")
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer=organization).count() == 3
    assert browser_errors == []
