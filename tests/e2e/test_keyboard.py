"""The keyboard alone (issue 15): help page 000's steps without a mouse, and defect 10 (Escape
did not close a row's three dots menu; after a dialog opened from a row's menu closed, the focus
landed on <body>)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from cloudmsp.cloud.models import Category, CloudAccount, Kind
from tests.e2e.support import dialog, look
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.e2e
MANAGEMENT = "111122223333"
MEMBERS = [f"30000000000{i}" for i in range(4)]


@pytest.fixture
def organization(admin):
    payer = CloudAccountFactory(
        tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id=MANAGEMENT, name="Payer"
    )
    for i, account_id in enumerate(MEMBERS):
        CloudAccountFactory(
            tenant=admin.tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=payer,
            account_id=account_id,
            name=f"member-{i}",
        )
    CustomerFactory(tenant=admin.tenant, company_name="Wayne Enterprises")
    return payer


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.outerHTML.slice(0, 160) : ''")


def tab_to(page: Page, target: Locator, max_steps: int = 120, back: bool = False) -> None:
    """Press Tab (Shift+Tab with `back`) until `target` has the focus; a control the keyboard
    cannot reach fails the test."""
    for _ in range(max_steps):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{target} cannot be reached with Tab; the focus is on {focused(page)}")


def assert_focus_on(page: Page, target: Locator) -> None:
    expect(target).to_be_focused()
    assert not page.evaluate("document.activeElement === document.body")


def row(page: Page, account_id: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=account_id, exact=True))


def test_help_page_000_with_the_keyboard_alone(live_server, admin, organization, new_page, browser_errors):
    base = live_server.url
    page = new_page()
    page.goto(base + reverse("users:login"))
    # 1. Login: the fields and the button by Tab, Enter signs in.
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(admin.email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_contain_text("Administration")

    # 2. ADMINISTRATION > ACCOUNT MANAGEMENT: Enter opens the menu, Down reaches the entry.
    administration = nav.get_by_text("Administration", exact=True)
    tab_to(page, administration)
    page.keyboard.press("Enter")
    expect(administration).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    account_management = nav.get_by_role("link", name="Account Management")
    for _ in range(8):
        if account_management.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    assert_focus_on(page, account_management)
    # Escape closes it and gives the focus back to its button; Enter opens it again.
    page.keyboard.press("Escape")
    assert_focus_on(page, administration)
    expect(administration).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    tab_to(page, account_management)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Account Management", level=1)).to_be_visible()

    # 3.-4. Expand AWS in the left panel, then MSP.
    side = page.get_by_role("navigation", name="Account navigation")
    tab_to(page, side.get_by_text("AWS", exact=True))
    page.keyboard.press("Enter")
    tab_to(page, side.get_by_role("link", name="MSP", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="MSP accounts", level=1)).to_be_visible()

    # 5.-6. The three dots of the MSP account, Manage Customer Accounts.
    dots = row(page, MANAGEMENT).get_by_role("button", name=f"Actions for account {MANAGEMENT}")
    tab_to(page, dots)
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    assert_focus_on(page, row(page, MANAGEMENT).get_by_role("link", name="Manage Customer Accounts"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Manage Customer Accounts", level=1)).to_be_visible()
    look(page, "keyboard-000-manage-customer-accounts")

    # Associating: Space checks two accounts, Enter on Associate Account to Customer.
    for account_id in MEMBERS[:2]:
        tab_to(page, page.get_by_label(f"Select account {account_id}"))
        page.keyboard.press("Space")
    expect(page.get_by_text("2 selected")).to_be_visible()
    associate = page.get_by_role("button", name="Associate Account to Customer")
    tab_to(page, associate, back=True)
    page.keyboard.press("Enter")
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Link to Customer")).to_be_visible()
    look(page, "keyboard-000-link-to-customer")
    dropdown = modal.get_by_label("Select a customer to associate with the accounts")
    tab_to(page, dropdown)
    page.keyboard.press("ArrowDown")
    expect(dropdown.locator("option:checked")).to_have_text("Wayne Enterprises")
    tab_to(page, modal.get_by_role("button", name="Finish"))
    page.keyboard.press("Enter")
    expect(modal).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text("2 account(s) linked to Wayne Enterprises")
    expect(row(page, MEMBERS[0])).to_contain_text("Wayne Enterprises")
    # The dialog closed and the table reloaded: the focus is back on the button, not on <body>.
    assert_focus_on(page, associate)

    # Removing one from its customer: Space, Remove Account from Customer, Tab to Remove, Enter.
    tab_to(page, page.get_by_label(f"Select account {MEMBERS[1]}"))
    page.keyboard.press("Space")
    remove = page.get_by_role("button", name="Remove Account from Customer")
    tab_to(page, remove, back=True)
    page.keyboard.press("Enter")
    expect(modal.get_by_role("heading", name="Remove Account from Customer")).to_be_visible()
    look(page, "keyboard-000-remove-from-customer")
    tab_to(page, modal.get_by_role("button", name="Remove", exact=True))
    page.keyboard.press("Enter")
    expect(modal).to_be_hidden()
    expect(row(page, MEMBERS[1])).not_to_contain_text("Wayne Enterprises")
    assert_focus_on(page, remove)

    # Onboarding: the member's three dots, Onboard Account opens its window; Escape closes it and
    # the focus returns to the row's three dots.
    member_dots = row(page, MEMBERS[2]).get_by_role("button", name=f"Actions for account {MEMBERS[2]}")
    tab_to(page, member_dots)
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    assert_focus_on(page, row(page, MEMBERS[2]).get_by_role("link", name="Onboard Account"))
    page.keyboard.press("Enter")
    expect(modal.get_by_role("heading", name="Onboard Member Account")).to_be_visible()
    look(page, "keyboard-000-onboard-window")
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    assert_focus_on(page, member_dots)
    assert CloudAccount.objects.for_tenant(admin.tenant).filter(customer__isnull=False).count() == 1
    assert browser_errors == [], "\n".join(browser_errors)


def test_escape_closes_a_row_menu_and_a_dialog_gives_the_focus_back(live_server, admin, organization, new_page):
    """Defect 10."""
    page = new_page(1280, 800)
    from tests.e2e.support import sign_in

    sign_in(page, live_server.url, admin.email, PASSWORD)
    page.goto(live_server.url + reverse("cloud:members", kwargs={"account_id": organization.pk}))
    dots = row(page, MEMBERS[3]).get_by_role("button", name=f"Actions for account {MEMBERS[3]}")
    menu = row(page, MEMBERS[3]).locator("details.row-menu")
    dots.click()
    expect(menu).to_have_attribute("open", "")
    expect(dots).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    assert_focus_on(page, dots)
    # A click elsewhere closes an open menu; opening another closes the first.
    dots.click()
    page.mouse.click(5, 400)
    expect(menu).not_to_have_attribute("open", "")
    dots.click()
    dots.focus()
    page.keyboard.press("Shift+Tab")  # the focus leaves the menu for the row's checkbox...
    other = row(page, MEMBERS[2]).get_by_role("button", name=f"Actions for account {MEMBERS[2]}")
    other.focus()
    page.keyboard.press("Enter")  # ... and another row's menu opens: the first one closes
    expect(row(page, MEMBERS[2]).locator("details.row-menu")).to_have_attribute("open", "")
    expect(menu).not_to_have_attribute("open", "")
    page.keyboard.press("Escape")
    # A dialog opened from the menu, closed with Cancel: the focus is on the row's three dots.
    dots.click()
    row(page, MEMBERS[3]).get_by_role("link", name="Onboard Account").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Onboard Member Account")).to_be_visible()
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    assert_focus_on(page, dots)
