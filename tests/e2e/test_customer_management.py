"""Help page 004, "Customer and User Management", followed step by step in a real browser.

The system administrator creates a tenant and its administrator; the administrator activates the
account, then creates, edits and deletes a customer and a customer user exactly as the page
describes: the "+" in the upper right, the details panel on the right, the trash can icon. Every
step is checked on the page and in the database. Set E2E_SCREENSHOTS=/some/dir to keep a
screenshot of each step.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.models import Tenant
from cloudmsp.tenancy.roles import Role
from cloudmsp.users.models import User
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerUserFactory, SysadminFactory

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Blue-harbour-lantern-42"


def panel(page: Page) -> Locator:
    return page.locator("aside#details-panel")


def row(page: Page, text: str) -> Locator:
    return page.get_by_role("row").filter(has_text=text)


def open_create_dialog(page: Page, label: str) -> Locator:
    """Click the "+" in the upper right; the create dialog opens with the focus in its first field."""
    page.get_by_role("button", name=label, exact=True).click()
    modal = dialog(page)
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading", name=label)).to_be_visible()
    expect(modal.locator("input:not([type=hidden])").first).to_be_focused()
    return modal


def test_help_page_004_customer_and_user_management(live_server, new_page, browser_errors):
    base = live_server.url
    sysadmin = SysadminFactory(email="root@install.test")

    # --- The system administrator creates a tenant and its administrator -------------------------
    page = new_page()
    sign_in(page, base, sysadmin.email, PASSWORD)
    expect(page).to_have_url(f"{base}/system/tenants/")
    expect(page.get_by_role("heading", name="Tenants", level=1)).to_be_visible()

    modal = open_create_dialog(page, "Create tenant")
    modal.get_by_label("Name").fill("Northwind MSP")
    look(page, "e2e-01-create-tenant-dialog")
    modal.get_by_role("button", name="Create").click()
    expect(modal).to_be_hidden()
    expect(panel(page)).to_contain_text("Tenant created")
    expect(row(page, "Northwind MSP")).to_have_count(1)
    tenant = Tenant.objects.get(name="Northwind MSP")
    assert tenant.is_active

    row(page, "Northwind MSP").get_by_role("link", name="Northwind MSP", exact=True).click()
    expect(panel(page).get_by_role("heading", name="Northwind MSP")).to_be_visible()
    panel(page).get_by_role("button", name="Administrators").click()
    expect(page.get_by_role("heading", name="Administrators of Northwind MSP")).to_be_visible()

    modal = open_create_dialog(page, "Create tenant administrator")
    modal.get_by_label("Email").fill("ada@northwind.test")
    modal.get_by_label("First name").fill("Ada")
    modal.get_by_label("Last name").fill("Lovelace")
    modal.get_by_role("button", name="Create").click()
    expect(modal).to_be_hidden()
    expect(panel(page)).to_contain_text("User created")
    expect(row(page, "ada@northwind.test")).to_have_count(1)
    link_field = panel(page).get_by_label("Activation link")
    expect(link_field).to_have_value(re.compile(rf"^{re.escape(base)}/"))
    activation_link = link_field.input_value()
    look(page, "e2e-02-tenant-admin-created")
    admin = User.unscoped.get(email="ada@northwind.test")
    assert (admin.role, admin.tenant_id, admin.first_name, admin.last_name) == (
        Role.TENANT_ADMIN,
        tenant.pk,
        "Ada",
        "Lovelace",
    )
    assert not admin.activated

    # --- The tenant administrator activates the account ----------------------------------------
    page = new_page()
    page.goto(activation_link)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    page.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page).to_have_url(f"{base}/")  # the tenant dashboard (issue 15)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_text("Your password is set")).to_be_visible()
    admin.refresh_from_db()
    assert admin.activated
    assert admin.check_password(NEW_PASSWORD)

    # --- 1.1.1 Customer creation: Customers menu, "+" upper right, fill in, create -----------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    modal = open_create_dialog(page, "Create customer")
    modal.get_by_label("Company name").fill("Contoso Ltd")
    modal.get_by_label("First name").fill("Grace")
    modal.get_by_label("Last name").fill("Hopper")
    modal.get_by_label("Email").fill("Grace@Contoso.test")
    modal.get_by_label("Phone").fill("+1 555 0100")
    modal.get_by_label("Country").fill("United States")
    modal.get_by_label("City").fill("Arlington")
    modal.get_by_label("Description").fill("Reseller contract 2024")
    look(page, "e2e-03-create-customer-dialog")
    modal.get_by_role("button", name="Create").click()
    expect(modal).to_be_hidden()
    expect(panel(page)).to_contain_text("Customer created")
    contoso = row(page, "Contoso Ltd")
    expect(contoso).to_have_count(1)
    expect(contoso).to_contain_text("grace@contoso.test")
    customer = Customer.objects.for_tenant(tenant).get()
    assert (customer.company_name, customer.email, customer.city, customer.description) == (
        "Contoso Ltd",
        "grace@contoso.test",
        "Arlington",
        "Reseller contract 2024",
    )

    # --- 1.1.2 Customer modification: name -> details panel on the right -> edit -> save --------
    page.reload()  # a fresh page: the panel opens from the table, not from the create answer
    expect(panel(page)).to_be_empty()
    row(page, "Contoso Ltd").get_by_role("link", name="Contoso Ltd", exact=True).click()
    details = panel(page)
    expect(details.get_by_role("heading", name="Contoso Ltd")).to_be_visible()
    expect(details).to_contain_text("Arlington")
    look(page, "e2e-04-customer-details-panel")
    details.get_by_role("button", name="Edit").click()
    expect(details.get_by_label("Company name")).to_have_value("Contoso Ltd")
    details.get_by_label("Company name").fill("Contoso Group")
    details.get_by_label("City").fill("Seattle")
    details.get_by_label("State").fill("WA")
    look(page, "e2e-05-customer-edit-mode")
    details.get_by_role("button", name="Save").click()
    expect(details).to_contain_text("Changes saved")
    expect(details.get_by_role("heading", name="Contoso Group")).to_be_visible()
    expect(details).to_contain_text("Seattle")
    expect(row(page, "Contoso Group")).to_have_count(1)
    expect(row(page, "Contoso Ltd")).to_have_count(0)
    customer.refresh_from_db()
    assert (customer.company_name, customer.city, customer.state, customer.phone) == (
        "Contoso Group",
        "Seattle",
        "WA",
        "+1 555 0100",
    )

    # --- 1.1.4.1 Customer user creation: the customer's users, "+" -------------------------------
    details.get_by_role("link", name=re.compile("manage users")).click()
    expect(page.get_by_role("heading", name="Users of Contoso Group")).to_be_visible()
    modal = open_create_dialog(page, "Create customer user")
    modal.get_by_label("Email").fill("alan@contoso.test")
    modal.get_by_label("First name").fill("Alan")
    modal.get_by_label("Last name").fill("Turing")
    modal.get_by_role("button", name="Create").click()
    expect(modal).to_be_hidden()
    expect(panel(page)).to_contain_text("User created")
    expect(panel(page).get_by_label("Activation link")).to_have_value(re.compile(r"/activate/"))
    expect(row(page, "alan@contoso.test")).to_have_count(1)
    user = User.unscoped.get(email="alan@contoso.test")
    assert (user.role, user.tenant_id, user.customer_id, user.activated) == (
        Role.CUSTOMER_USER,
        tenant.pk,
        customer.pk,
        False,
    )

    # --- 1.1.4.2 Customer user modification: its details panel -> edit -> save ------------------
    row(page, "alan@contoso.test").get_by_role("link", name="alan@contoso.test").click()
    details = panel(page)
    expect(details.get_by_role("heading", name="Alan Turing")).to_be_visible()
    details.get_by_role("button", name="Edit").click()
    details.get_by_label("First name").fill("Alonzo")
    details.get_by_label("Last name").fill("Church")
    details.get_by_label("Phone").fill("+44 20 7946 0000")
    details.get_by_role("button", name="Save").click()
    expect(details).to_contain_text("Changes saved")
    expect(details.get_by_role("heading", name="Alonzo Church")).to_be_visible()
    expect(row(page, "alan@contoso.test")).to_contain_text("Alonzo")
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone, user.is_active) == (
        "Alonzo",
        "Church",
        "+44 20 7946 0000",
        True,
    )

    # --- 1.1.4.3 Deleting a customer user: the trash icon, confirm -------------------------------
    row(page, "alan@contoso.test").get_by_role("button", name="Delete user alan@contoso.test").click()
    modal = dialog(page)
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading")).to_contain_text("alan@contoso.test")
    look(page, "e2e-06-delete-user-confirmation")
    modal.get_by_role("button", name="Delete").click()
    expect(modal).to_be_hidden()
    expect(row(page, "alan@contoso.test")).to_have_count(0)
    expect(panel(page)).to_be_empty()
    assert not User.unscoped.filter(email="alan@contoso.test").exists()

    # --- 1.1.3 Customer deletion: the trash can at the end of its row --------------------------
    # Give the customer a user and an assigned account, so the confirmation has something to say.
    kept_user = CustomerUserFactory(customer=customer, email="kept@contoso.test")
    account = CloudAccountFactory(tenant=tenant, customer=customer, account_id="123456789012")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    contoso = row(page, "Contoso Group")
    contoso.get_by_role("cell").last.get_by_role("button", name="Delete customer Contoso Group").click()
    modal = dialog(page)
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading")).to_contain_text("Contoso Group")
    expect(modal).to_contain_text("Its 1 user will be deleted.")
    expect(modal).to_contain_text("Its 1 cloud account will become unassigned")
    look(page, "e2e-07-delete-customer-confirmation")
    modal.get_by_role("button", name="Cancel").click()  # asking first means "no" keeps it
    expect(modal).to_be_hidden()
    expect(row(page, "Contoso Group")).to_have_count(1)
    contoso.get_by_role("cell").last.get_by_role("button", name="Delete customer Contoso Group").click()
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Delete").click()
    expect(modal).to_be_hidden()
    expect(row(page, "Contoso Group")).to_have_count(0)
    expect(page.get_by_text("No customers yet")).to_be_visible()
    assert not Customer.objects.for_tenant(tenant).exists()
    assert not User.unscoped.filter(pk=kept_user.pk).exists()
    account = CloudAccount.objects.for_tenant(tenant).get(pk=account.pk)
    assert account.customer_id is None

    # Every change went through the services, which record it.
    actions = set(AuditEvent.unscoped.filter(tenant=tenant).values_list("action", flat=True))
    assert {
        "customer.create",
        "customer.update",
        "customer.delete",
        "user.create",
        "user.update",
        "user.delete",
    } <= actions

    assert browser_errors == [], "the browser reported errors:\n" + "\n".join(browser_errors)
