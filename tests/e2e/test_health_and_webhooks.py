"""Role health and webhooks (SPEC 9) in a real browser at a phone's width and two desktop widths:
the Health page with a broken role first, an account's timeline, the Schedule page, a webhook
created with its secret shown once, a test event sent to a real receiver on loopback by the real
task worker and shown in the delivery log, and the email preferences. Each page's main region is
checked with axe-core. Set E2E_SCREENSHOTS=/some/dir to keep a screenshot of each."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cloudmsp.cloud.models import CheckTrigger, Health, HealthCheck
from cloudmsp.notifications.services import verify
from tests.e2e.support import dialog, look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)


@pytest.fixture
def roles(admin):
    now = timezone.now()
    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")
    healthy = CloudAccountFactory(
        tenant=admin.tenant,
        account_id="210000000001",
        name="acme-prod",
        customer=acme,
        role_arn="arn:aws:iam::210000000001:role/CloudMSPAccess",
        health=Health.HEALTHY,
        health_since=now,
        last_validated_at=now,
    )
    broken = CloudAccountFactory(
        tenant=admin.tenant,
        account_id="210000000002",
        name="acme-dev",
        customer=acme,
        role_arn="arn:aws:iam::210000000002:role/CloudMSPAccess",
        health=Health.BROKEN,
        health_since=now - dt.timedelta(minutes=42),
        last_validated_at=now,
        last_validation_message="Assume the role failed: AWS refused access.",
    )
    for minutes, ok, was in ((120, True, Health.UNKNOWN), (42, False, Health.HEALTHY)):
        HealthCheck.unscoped.create(
            tenant=admin.tenant,
            account=broken,
            checked_at=now - dt.timedelta(minutes=minutes),
            ok=ok,
            step="" if ok else "Assume the role",
            message="The role works." if ok else "AWS refused access.",
            role_arn=broken.role_arn,
            trigger=CheckTrigger.SCHEDULED,
            changed_from=was,
        )
    return healthy, broken


@pytest.mark.parametrize("width", WIDTHS)
def test_health_pages(live_server, admin, roles, new_page, browser_errors, width):
    healthy, broken = roles
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)

    page.goto(base + reverse("cloud:health"))
    rows = page.locator("#health-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(broken.account_id)
    expect(rows.first.locator(".badge.bad")).to_contain_text("Broken since")
    expect(rows.first).to_contain_text("AWS refused access")
    look(page, f"health-{width}")
    page.locator("#toolbar-health-table").get_by_label("Health").select_option("healthy")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(healthy.account_id)

    page.goto(base + reverse("cloud:account_health", kwargs={"account_id": broken.pk}))
    expect(page.locator("ol.timeline li")).to_have_count(2)
    look(page, f"health-account-{width}")

    page.goto(base + reverse("cloud:schedule"))
    page.get_by_label("Validate every role every (minutes)").fill("15")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Schedule saved.")).to_be_visible()
    look(page, f"health-schedule-{width}")
    assert browser_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_webhook_gets_a_signed_test_event(live_server, admin, receiver, task_worker, new_page, browser_errors, width):
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)
    page.goto(base + reverse("notifications:webhook_list"))
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    look(page, f"webhooks-empty-{width}")
    page.get_by_role("button", name="Create webhook").click()
    modal = dialog(page)
    expect(modal.get_by_role("heading", name="Create webhook")).to_be_visible()
    modal.get_by_label("URL").fill("http://169.254.169.254/latest/meta-data/")
    modal.get_by_role("button", name="Create").click()
    expect(modal.get_by_text("link-local")).to_be_visible()
    modal.get_by_label("URL").fill(receiver.url)
    modal.get_by_label("role.broken — A role broke").check()
    modal.get_by_label("role.recovered — A role recovered").check()
    look(page, f"webhooks-create-{width}")
    modal.get_by_role("button", name="Create").click()

    panel = page.locator("#details-panel")
    secret = panel.locator("#webhook-secret")
    expect(secret).to_be_visible()
    value = secret.input_value()
    assert value.startswith("whsec_")
    look(page, f"webhooks-created-{width}")
    panel.get_by_role("button", name="Send test event").click()
    expect(panel.get_by_text("Test event sent")).to_be_visible()

    page.goto(base + reverse("notifications:deliveries"))
    first = page.locator("#delivery-table tbody tr").first
    for _ in range(50):  # the worker delivers within a second or so
        if "Delivered" in first.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(first).to_contain_text("Delivered (200)")
    look(page, f"webhooks-deliveries-{width}")
    (got,) = receiver.received
    assert verify(value, got.headers["X-Cloudmsp-Signature"], got.body)
    assert json.loads(got.body)["type"] == "test"

    page.goto(base + reverse("notifications:preferences"))
    page.get_by_label("A new account was discovered").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your email preferences are saved.")).to_be_visible()
    expect(page.get_by_label("A new account was discovered")).not_to_be_checked()
    look(page, f"emails-{width}")
    # The refused URL's answer (422, the form with its error) is the only one the console notes.
    assert [e for e in browser_errors if "status of 422" not in e] == []
