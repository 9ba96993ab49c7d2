"""The tenant dashboard (issue 15) in a real browser at a phone's width and two desktop widths:
the administrator lands on it, axe-core finds no serious or critical WCAG 2.1 A/AA violation,
nothing scrolls sideways, and a count leads to the list of exactly those accounts; a new tenant
is told how to add its first MSP account; a customer user's home counts its accounts by health.
Set E2E_SCREENSHOTS=/some/dir to keep a screenshot of each page at each width."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import Job, JobKind, JobState
from tests.cloud.test_dashboard import _account, _estate
from tests.e2e.support import look, shot, sign_in
from tests.factories import PASSWORD, CustomerFactory, CustomerUserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)


def _checked(page: Page, name: str) -> None:
    look(page, name)  # screenshot, axe on the whole page, nothing wider than the window


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dashboard_counts_and_links_to_its_lists(live_server, admin, new_page, browser_errors, width):
    estate = _estate(admin.tenant)
    owner = CustomerFactory(tenant=admin.tenant)
    for n in range(8):  # enough MSP accounts for the bars to wrap into a grid
        name = f"zq-org-{n} with a rather long organization name"
        org = _account(admin.tenant, name, category="msp", kind="management", customer=owner)
        for i in range(n):
            status = "onboarded" if i % 2 else "not_onboarded"
            _account(
                admin.tenant,
                f"zq-o{n}m{i}",
                category="msp",
                kind="member",
                parent=org,
                customer=owner,
                onboarding_status=status,
            )
    Job.unscoped.create(tenant=admin.tenant, kind=JobKind.SYNC, account=estate["mgmt"], state=JobState.SUCCEEDED)
    Job.unscoped.create(
        tenant=admin.tenant,
        kind=JobKind.VALIDATE,
        state=JobState.FAILED,
        error="The worker stopped before it finished.",
    )
    AuditEvent.unscoped.create(
        tenant=admin.tenant,
        action="cloudaccount.update",
        actor_email=admin.email,
        object_type="cloudaccount",
        object_id=str(estate["s1"].pk),
        object_repr="zq-s1 " + "x" * 120,
    )
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)

    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    main_nav = page.get_by_role("navigation", name="Main")
    if width < 769:  # on a phone the links are behind the Menu button
        main_nav.get_by_role("button", name="Menu").click()
    expect(main_nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("progressbar", name=re.compile(r"^zq-mgmt"))).to_have_attribute("value", "1")
    _checked(page, f"dashboard-{width}")

    # "5 with no customer" leads to Account Management filtered on no customer: those five.
    page.get_by_role("link", name="5 with no customer").click()
    expect(page).to_have_url(re.compile(r"/administration/accounts/\?customer=none$"))
    expect(page.locator("#account-table tbody tr")).to_have_count(5)
    expect(page.get_by_role("search").get_by_label("Customer")).to_have_value("none")
    shot(page, f"dashboard-unassigned-{width}")

    # "2 broken roles" leads to the Health page, broken roles only.
    page.go_back()
    page.get_by_role("link", name="2 broken roles").click()
    expect(page).to_have_url(re.compile(r"/administration/accounts/health/\?health=broken$"))
    expect(page.locator("#health-table tbody tr")).to_have_count(2)

    # "1 failed" (jobs) leads to the Jobs page, failed jobs only, and on to the job itself.
    page.go_back()
    page.get_by_role("list", name="Jobs by state").get_by_role("link", name="1 failed").click()
    expect(page).to_have_url(re.compile(r"/administration/accounts/jobs/\?state=failed$"))
    expect(page.locator("#job-table tbody tr")).to_have_count(1)
    _checked(page, f"jobs-failed-{width}")
    page.locator("#job-table").get_by_role("link", name="Role validation").click()
    expect(page.get_by_role("heading", name="Role validation")).to_be_visible()
    expect(page.get_by_text("The worker stopped before it finished.")).to_be_visible()
    shot(page, f"job-{width}")
    page.get_by_role("button", name="All jobs").click()
    expect(page).to_have_url(re.compile(r"/administration/accounts/jobs/$"))
    assert browser_errors == []


def test_a_new_tenant_is_shown_how_to_begin(live_server, new_page, browser_errors):
    admin = UserFactory(tenant=TenantFactory(name="Brand New MSP"))
    base = live_server.url
    for width in WIDTHS:
        page = new_page(width=width)
        sign_in(page, base, admin.email, PASSWORD)
        expect(page.get_by_role("heading", name="Add your first MSP account")).to_be_visible()
        _checked(page, f"dashboard-empty-{width}")
    page.get_by_role("link", name=re.compile(r"Account Management . AWS . MSP")).click()
    expect(page).to_have_url(base + reverse("cloud:msp"))
    expect(page.get_by_role("button", name="Add MSP account")).to_be_visible()
    assert browser_errors == []


def test_a_customer_users_home_shows_its_accounts_health(live_server, customer, new_page, browser_errors):
    user = CustomerUserFactory(customer=customer)
    _account(customer.tenant, "zq-c1", customer=customer, with_role=True, health="broken")
    _account(customer.tenant, "zq-c2", customer=customer, with_role=True, health="healthy")
    _account(customer.tenant, "zq-c3", customer=customer)
    base = live_server.url
    for width in WIDTHS:
        page = new_page(width=width)
        sign_in(page, base, user.email, PASSWORD)
        expect(page.get_by_role("list", name="Accounts by health")).to_contain_text("1 broken")
        _checked(page, f"customer-home-{width}")
    page.get_by_role("link", name="1 broken").click()
    expect(page).to_have_url(re.compile(r"/\?health=broken$"))
    expect(page.locator("#account-table tbody tr")).to_have_count(1)
    expect(page.get_by_role("cell", name="zq-c1")).to_be_visible()
    assert browser_errors == []
