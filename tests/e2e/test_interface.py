"""Issue 15's interface defects, each checked in a real browser: lists keep their whole state in
the URL (2), long words never widen a page (4), messages after a delete that float, close and go
away (9), dialogs whose buttons stay in view at 1366x768 (11), a navigation that collapses on a
phone (12), no CSP refusal with DEBUG on (13), and the small print of 14 (marked required fields,
red destructive buttons, breadcrumb separators, one-line headers)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from cloudmsp.cloud.models import Category, Kind
from cloudmsp.customers.models import Customer
from tests.e2e.support import dialog, look, sideways, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.e2e
LONG_NAME = "L" * 200


@pytest.fixture
def world(admin):
    management = CloudAccountFactory(
        tenant=admin.tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id="111122223333", name="Payer"
    )
    for i in range(30):
        CloudAccountFactory(
            tenant=admin.tenant,
            category=Category.MSP,
            kind=Kind.MEMBER,
            parent=management,
            account_id=f"3000000000{i:02d}",
            name=f"member-{i:02d}",
        )
    CustomerFactory.create_batch(30, tenant=admin.tenant)
    CustomerFactory(tenant=admin.tenant, company_name=LONG_NAME, email="ceo@" + "x" * 60 + ".example.com")
    return management


def signed_in(new_page, live_server, admin, width: int = 1440, height: int = 900) -> Page:
    page = new_page(width, height)
    sign_in(page, live_server.url, admin.email, PASSWORD)
    return page


def query(page: Page) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlparse

    return dict(parse_qsl(urlparse(page.url).query, keep_blank_values=True))


def test_a_list_keeps_search_sort_page_size_and_filters_together(live_server, admin, world, new_page):
    """Defect 2: searching kept the sort but dropped "Per page"."""
    page = signed_in(new_page, live_server, admin)
    page.goto(live_server.url + reverse("customers:list"))
    page.get_by_label("Per page").select_option("10")
    expect(page.get_by_text(re.compile(r"^1\u201310 of 31$"))).to_be_visible()
    page.get_by_role("link", name="Email").click()
    expect(page).to_have_url(re.compile(r"sort=email"))
    page.get_by_role("searchbox", name="Search customers").fill("Company")
    expect(page).to_have_url(re.compile(r"q=Company"))
    assert query(page) == {"q": "Company", "sort": "email", "per_page": "10"}
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text(re.compile(r"^11\u201320 of 30$"))).to_be_visible()
    assert query(page) == {"q": "Company", "sort": "email", "per_page": "10", "page": "2"}
    # Reloaded from its URL, the list is the same list.
    page.reload()
    expect(page.get_by_text(re.compile(r"^11\u201320 of 30$"))).to_be_visible()
    expect(page.get_by_label("Per page")).to_have_value("10")
    expect(page.get_by_role("searchbox", name="Search customers")).to_have_value("Company")

    # An account list with a filter: the filter, the search and the page size travel together.
    page.goto(live_server.url + reverse("cloud:accounts") + "?per_page=10")
    page.get_by_role("search").get_by_label("Type").select_option("member")
    expect(page).to_have_url(re.compile(r"kind=member"))
    page.get_by_role("searchbox", name="Search accounts").fill("member-1")
    expect(page).to_have_url(re.compile(r"q=member-1"))
    # Only what is set: no "customer=&aws_state=&..." for the filters left at "Any".
    assert {k: v for k, v in query(page).items() if k != "sort"} == {
        "kind": "member",
        "q": "member-1",
        "per_page": "10",
    }


@pytest.mark.parametrize("width", [390, 1280, 1440])
def test_long_words_never_widen_a_page(live_server, admin, world, new_page, width):
    """Defect 4: one unbroken 200-character name stretched the customers page to 4,284 px."""
    page = signed_in(new_page, live_server, admin, width)
    long_one = Customer.objects.for_tenant(admin.tenant).get(company_name=LONG_NAME)
    page.goto(live_server.url + reverse("customers:list") + "?q=LLLL")
    expect(page.get_by_role("link", name=LONG_NAME, exact=True)).to_be_visible()
    look(page, f"interface-long-name-list-{width}")
    page.get_by_role("link", name=LONG_NAME, exact=True).click()
    expect(page.locator("#details-panel").get_by_role("heading", name=LONG_NAME)).to_be_visible()
    look(page, f"interface-long-name-panel-{width}")
    # The customer filter of the account list lists the long name without widening the page.
    page.goto(live_server.url + reverse("cloud:accounts") + f"?customer={long_one.pk}")
    expect(page.locator("select[name=customer]")).to_have_value(str(long_one.pk))
    look(page, f"interface-long-name-filter-{width}")


def test_a_delete_says_so_in_a_message_that_floats_closes_and_fades(live_server, admin, world, new_page):
    """Defect 9: nothing was said after a delete; messages never went away, had no close button
    and pushed the layout down."""
    page = signed_in(new_page, live_server, admin)
    page.clock.install()
    victim = Customer.objects.for_tenant(admin.tenant).exclude(company_name=LONG_NAME).order_by("pk").first()
    page.goto(live_server.url + reverse("customers:list") + f"?q={victim.company_name}")
    heading = page.get_by_role("heading", name="Customers", level=1)
    top_before = heading.bounding_box()["y"]
    page.get_by_role("button", name=f"Delete customer {victim.company_name}", exact=True).click()
    modal = dialog(page)
    delete = modal.get_by_role("button", name="Delete")
    assert "danger" in (delete.get_attribute("class") or "")  # defect 14: destructive is red
    assert delete.evaluate("b => getComputedStyle(b).getPropertyValue('--pico-background-color')") in (
        "#b42318",
        "#8f1c13",
    )  # (focused: darker)
    delete.click()
    expect(modal).to_be_hidden()
    message = page.locator("#flash .flash")
    expect(message).to_have_text(re.compile(rf"Customer “{re.escape(victim.company_name)}” deleted\."))
    assert not Customer.objects.for_tenant(admin.tenant).filter(pk=victim.pk).exists()
    # It floats over the page: the heading has not moved.
    assert heading.bounding_box()["y"] == top_before
    assert message.evaluate("m => getComputedStyle(m.parentElement).position") == "fixed"
    # A success message goes away by itself...
    page.clock.run_for(9_000)
    expect(message).to_have_count(0)
    # ... and any message can be dismissed at once.
    page.goto(live_server.url + reverse("users:profile"))
    page.evaluate(
        "document.getElementById('flash').appendChild(document.getElementById('flash-template').content.firstElementChild.cloneNode(true))"
    )
    expect(page.locator("#flash .flash")).to_have_count(1)
    page.get_by_role("button", name="Dismiss message").click()
    expect(page.locator("#flash .flash")).to_have_count(0)


def test_a_delete_without_htmx_says_so_after_the_redirect(admin_client, admin):
    customer = CustomerFactory(tenant=admin.tenant, company_name="Gone Ltd")
    response = admin_client.post(reverse("customers:delete", kwargs={"customer_id": customer.pk}))
    assert response.status_code == 303
    page = admin_client.get(response["Location"]).content.decode()
    assert "Customer “Gone Ltd” deleted." in page
    assert "Customer “Gone Ltd” deleted." not in admin_client.get(response["Location"]).content.decode()


def test_a_create_dialog_keeps_its_buttons_in_view_at_1366x768(live_server, admin, world, new_page):
    """Defect 11: the create dialogs' buttons were below the fold; after a validation error the
    first label was cut off."""
    page = signed_in(new_page, live_server, admin, 1366, 768)
    page.goto(live_server.url + reverse("customers:list"))
    page.get_by_role("button", name="Create customer").click()
    modal = dialog(page)
    create = modal.get_by_role("button", name="Create", exact=True)
    expect(create).to_be_visible()
    assert in_view(page, create)
    look(page, "interface-create-customer-1366x768")
    create.click()
    expect(modal.get_by_text("This field is required.").first).to_be_visible()
    company = modal.get_by_label("Company name")
    expect(company).to_be_focused()
    assert in_view(page, modal.locator("label[for=id_company_name]"))
    assert in_view(page, create)
    # Required fields are marked, and the form says what the mark means (defect 14).
    expect(modal.locator(".required-note")).to_contain_text("are required")
    mark = modal.locator("label[for=id_company_name]").evaluate("l => getComputedStyle(l, '::after').content")
    assert mark.startswith('"*"')
    assert modal.locator("label[for=id_phone]").evaluate("l => getComputedStyle(l, '::after').content") == "none"
    look(page, "interface-create-customer-errors-1366x768")


def in_view(page: Page, locator) -> bool:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def test_on_a_phone_the_navigation_collapses_into_a_menu(live_server, admin, world, new_page):
    """Defect 12: at 390 px the navigation took half the width and every page scrolled sideways."""
    page = signed_in(new_page, live_server, admin, 390, 844)
    page.goto(live_server.url + reverse("customers:list"))
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_text("Administration", exact=True)).to_be_hidden()
    look(page, "interface-phone-menu-closed")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_text("Administration", exact=True).click()
    look(page, "interface-phone-menu-open")
    nav.get_by_role("link", name="Account Management").click()
    expect(page.get_by_role("heading", name="Account Management", level=1)).to_be_visible()
    look(page, "interface-phone-accounts")
    for name in ("cloud:msp", "cloud:non_msp", "users:admin_list", "tenants:list"):
        if name == "tenants:list":
            continue  # a sysadmin page
        page.goto(live_server.url + reverse(name))
        assert sideways(page) == [], name
    # Wide screens show the menu itself, no button.
    wide = signed_in(new_page, live_server, admin, 1280, 800)
    expect(wide.get_by_role("navigation", name="Main").get_by_role("button", name="Menu")).to_be_hidden()
    expect(wide.get_by_role("navigation", name="Main").get_by_text("Administration", exact=True)).to_be_visible()


def test_with_debug_on_an_error_answer_stays_in_the_page(live_server, admin, world, new_page, browser_errors, settings):
    """Defect 13: with DEBUG on (make demo), django-htmx's debug script replaced the page by
    Django's debug page for any 400/403/404/500 answer of an htmx request, whose inline styles
    the CSP refuses ("Applying inline style violates style-src 'self'")."""
    settings.DEBUG = True
    page = signed_in(new_page, live_server, admin)
    victim = Customer.objects.for_tenant(admin.tenant).exclude(company_name=LONG_NAME).order_by("pk").last()
    page.goto(live_server.url + reverse("customers:list") + f"?q={victim.company_name}")
    assert page.locator("script[src*='django-htmx']").count() == 0
    page.get_by_role("button", name=f"Delete customer {victim.company_name}", exact=True).click()
    modal = dialog(page)
    expect(modal.get_by_role("button", name="Delete")).to_be_visible()
    victim.delete()  # deleted meanwhile, elsewhere: the confirmation answers 404
    modal.get_by_role("button", name="Delete").click()
    expect(page.locator("#flash .flash-error")).to_be_visible()
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    # Back after paging, and a nested create with errors twice: no CSP refusal either.
    page.goto(live_server.url + reverse("customers:list") + "?per_page=10")
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text(re.compile(r"^11\u201320 of"))).to_be_visible()
    page.go_back()
    expect(page.get_by_text(re.compile(r"^1\u201310 of"))).to_be_visible()
    page.goto(live_server.url + reverse("cloud:members", kwargs={"account_id": world.pk}))
    page.get_by_label("Select account 300000000001").check()
    page.get_by_role("button", name="Associate Account to Customer").click()
    modal.get_by_role("button", name="Create Customer").click()
    for _ in range(2):
        modal.get_by_role("button", name="Create Customer").click()
        expect(modal.get_by_text("This field is required.").first).to_be_visible()
    refused = [e for e in browser_errors if "Content Security Policy" in e or "inline style" in e]
    assert refused == []


def test_breadcrumbs_have_separators_and_headers_one_line(live_server, admin, world, new_page):
    page = signed_in(new_page, live_server, admin, 1280)
    page.goto(live_server.url + reverse("cloud:members", kwargs={"account_id": world.pk}))
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link", name="MSP accounts")).to_be_visible()
    current = crumbs.locator("[aria-current=page]")
    expect(current).to_contain_text("111122223333")
    assert current.evaluate("li => getComputedStyle(li, '::before').content") == '"\u203a"'
    for th in page.locator("thead th").all():
        box = th.bounding_box()
        line = th.evaluate("t => parseFloat(getComputedStyle(t).lineHeight) || 24")
        assert box["height"] < 2.5 * line + 24, th.inner_text()
