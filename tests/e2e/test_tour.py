"""Every page and create dialog of the portal, for each role, at 390, 1280 and 1440 px: each one
looked at (no serious or critical axe-core finding, nothing wider than the window; a screenshot
with E2E_SCREENSHOTS=/some/dir).

With README_SCREENSHOTS=docs/screenshots the main pages are also saved there at 1440 px (and the
phone layout at 390 px): the README shows those, so `make screenshots` keeps them current.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import Category, CloudAccount, Health, Kind, OnboardingStatus
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory, CustomerUserFactory, SysadminFactory

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)
ROLE_ARN = "arn:aws:iam::{}:role/CloudMSPAccess"


@pytest.fixture
def world(admin):
    """A tenant as it looks after some weeks: an organization partly onboarded, customers with
    users, a broken role, an audit trail."""
    now = timezone.now()
    tenant = admin.tenant
    acme = CustomerFactory(tenant=tenant, company_name="Acme Corporation", email="ops@acme.example")
    globex = CustomerFactory(tenant=tenant, company_name="Globex", email="it@globex.example")
    CustomerFactory.create_batch(8, tenant=tenant)
    user = CustomerUserFactory(customer=acme, email="wile@acme.example", first_name="Wile", last_name="Coyote")
    payer = CloudAccountFactory(
        tenant=tenant,
        category=Category.MSP,
        kind=Kind.MANAGEMENT,
        account_id="111122223333",
        name="Payer",
        role_arn=ROLE_ARN.format("111122223333"),
        onboarding_status=OnboardingStatus.ONBOARDED,
        health=Health.HEALTHY,
        health_since=now,
    )
    for i in range(14):
        onboarded = i < 9
        account_id = f"3000000000{i:02d}"
        CloudAccountFactory(
            tenant=tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=payer,
            account_id=account_id,
            name=f"{'prod' if i % 2 else 'dev'}-{i:02d}",
            email=f"aws+{i:02d}@acme.example",
            ou_path="Root/Prod" if i % 2 else "Root/Dev",
            customer=(acme, globex, None)[i % 3],
            role_arn=ROLE_ARN.format(account_id) if onboarded else "",
            onboarding_status=OnboardingStatus.ONBOARDED if onboarded else OnboardingStatus.NOT_ONBOARDED,
            health=(Health.BROKEN if i == 4 else Health.HEALTHY) if onboarded else Health.UNKNOWN,
            health_since=now - dt.timedelta(hours=i) if onboarded else None,
            last_validation_message="Assume the role failed: AWS refused access." if i == 4 else "",
        )
    CloudAccountFactory(tenant=tenant, account_id="444455556666", name="globex-own", customer=globex)
    AuditEvent.objects.create(
        tenant=tenant,
        actor_email=admin.email,
        action="customer.create",
        object_type="customer",
        object_id=str(acme.pk),
        object_repr=acme.company_name,
    )
    return payer, acme, user


def readme_shot(page: Page, name: str) -> None:
    folder = os.environ.get("README_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def visit(page: Page, url: str, name: str, heading: str | None = None) -> None:
    page.goto(url)
    if heading:
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    look(page, name)


def open_dialog(page: Page, button: str, heading: str, name: str) -> None:
    page.get_by_role("button", name=button, exact=True).first.click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name=heading)).to_be_visible()
    look(page, name)
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_of_a_tenant_administrator(live_server, admin, world, new_page, browser_errors, width):
    base = live_server.url
    payer, acme, _user = world
    page = new_page(width, 900)
    sign_in(page, base, admin.email, PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    look(page, f"tour-home-{width}")
    readme = width == 1440
    if readme:
        readme_shot(page, "home")
    if width == 390:
        page.get_by_role("button", name="Menu").click()
        readme_shot(page, "phone-menu")
        page.get_by_role("button", name="Menu").click()

    visit(page, base + reverse("customers:list"), f"tour-customers-{width}", "Customers")
    open_dialog(page, "Create customer", "Create customer", f"tour-customers-create-{width}")
    page.get_by_role("link", name="Acme Corporation", exact=True).click()
    expect(page.locator("#details-panel").get_by_role("heading", name="Acme Corporation")).to_be_visible()
    look(page, f"tour-customer-panel-{width}")
    if readme:
        readme_shot(page, "customers")
    visit(page, base + reverse("customers:user_list", kwargs={"customer_id": acme.pk}), f"tour-users-{width}")
    open_dialog(page, "Create customer user", "Create customer user", f"tour-users-create-{width}")
    visit(page, base + reverse("customers:import"), f"tour-customers-import-{width}")

    visit(page, base + reverse("cloud:accounts"), f"tour-accounts-{width}", "Account Management")
    if readme:
        readme_shot(page, "account-management")
    visit(page, base + reverse("cloud:msp"), f"tour-msp-{width}", "MSP accounts")
    open_dialog(page, "Add MSP account", "Add MSP account", f"tour-msp-add-{width}")
    visit(page, base + reverse("cloud:non_msp"), f"tour-non-msp-{width}")
    open_dialog(page, "Add Non-MSP account", "Add Non-MSP account", f"tour-non-msp-add-{width}")
    visit(page, base + reverse("cloud:members", kwargs={"account_id": payer.pk}), f"tour-members-{width}")
    dots = page.get_by_role("button", name="Actions for account 300000000009")
    dots.click()
    look(page, f"tour-members-menu-{width}")
    if readme:
        readme_shot(page, "manage-customer-accounts")
    page.keyboard.press("Escape")
    visit(page, base + reverse("cloud:import"), f"tour-accounts-import-{width}")
    visit(page, base + reverse("cloud:rule_list"), f"tour-rules-{width}")
    open_dialog(page, "Create assignment rule", "Create assignment rule", f"tour-rules-create-{width}")
    visit(page, base + reverse("cloud:health"), f"tour-health-{width}")
    if readme:
        readme_shot(page, "health")
    broken = CloudAccount.objects.for_tenant(admin.tenant).get(account_id="300000000004")
    visit(
        page, base + reverse("cloud:account_health", kwargs={"account_id": broken.pk}), f"tour-account-health-{width}"
    )
    visit(page, base + reverse("cloud:schedule"), f"tour-schedule-{width}")
    visit(page, base + reverse("notifications:webhook_list"), f"tour-webhooks-{width}")
    open_dialog(page, "Create webhook", "Create webhook", f"tour-webhooks-create-{width}")
    visit(page, base + reverse("notifications:deliveries"), f"tour-deliveries-{width}")
    visit(page, base + reverse("notifications:preferences"), f"tour-emails-{width}")
    visit(page, base + reverse("users:admin_list"), f"tour-administrators-{width}")
    open_dialog(page, "Create administrator", "Create administrator", f"tour-administrators-create-{width}")
    visit(page, base + reverse("audit:list"), f"tour-audit-{width}", "Audit log")
    if readme:
        readme_shot(page, "audit-log")
    visit(page, base + reverse("users:profile"), f"tour-profile-{width}")
    assert browser_errors == [], "\n".join(browser_errors)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_of_a_customer_user_and_a_system_administrator(live_server, world, new_page, browser_errors, width):
    base = live_server.url
    _, _acme, user = world
    page = new_page(width, 900)
    visit(page, base + reverse("users:forgot_password"), f"tour-forgot-password-{width}")
    visit(page, base + reverse("users:login"), f"tour-login-{width}")
    sign_in(page, base, user.email, PASSWORD)
    expect(page.get_by_role("heading", name="Acme Corporation", level=1)).to_be_visible()
    look(page, f"tour-customer-home-{width}")
    if width == 390:
        readme_shot(page, "customer-home-phone")
    visit(page, base + reverse("users:profile"), f"tour-customer-profile-{width}")

    root = SysadminFactory(email=f"root{width}@install.test")
    page = new_page(width, 900)
    sign_in(page, base, root.email, PASSWORD)
    expect(page.get_by_role("heading", name="Tenants", level=1)).to_be_visible()
    look(page, f"tour-tenants-{width}")
    open_dialog(page, "Create tenant", "Create tenant", f"tour-tenants-create-{width}")
    assert browser_errors == [], "\n".join(browser_errors)
