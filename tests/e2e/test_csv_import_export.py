"""CSV import and export (SPEC 10) in a real browser at a phone's width and two desktop widths:
Export CSV under Account Management downloads every account the list shows, and Import from CSV
uploads a mapping file, shows its diff, and Apply makes exactly that change. The import page is
checked with axe-core. Set E2E_SCREENSHOTS=/some/dir to keep a screenshot of each step."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cloudmsp.cloud.models import CloudAccount
from tests.e2e.support import look, sign_in
from tests.factories import PASSWORD, CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.e2e
WIDTHS = (390, 1280, 1440)


@pytest.mark.parametrize("width", WIDTHS)
def test_export_then_import_a_mapping(live_server, admin, new_page, browser_errors, width):
    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")
    CloudAccountFactory.create_batch(30, tenant=admin.tenant)
    target = CloudAccountFactory(tenant=admin.tenant, account_id="310000000001", name="=not-a-formula")
    base = live_server.url
    page = new_page(width=width)
    sign_in(page, base, admin.email, PASSWORD)

    page.goto(base + reverse("cloud:accounts"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert len(text.strip().splitlines()) == 1 + 31  # the header and every account, not a page of them
    assert "310000000001,,'=not-a-formula," in text
    look(page, f"csv-accounts-{width}")

    page.get_by_role("link", name="Import from CSV").click()
    expect(page.get_by_role("heading", name="Import account assignments")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "map.csv",
                "mimeType": "text/csv",
                "buffer": b"account_id,customer\n310000000001,Acme Corporation\n",
            }
        ]
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("Created:")).to_contain_text("1")
    expect(page.locator("table")).to_contain_text("no customer → Acme Corporation")
    look(page, f"csv-import-diff-{width}")
    target.refresh_from_db()
    assert target.customer_id is None  # nothing written by the dry run

    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status").filter(has_text="Import applied")).to_contain_text("1 created")
    look(page, f"csv-import-applied-{width}")
    assert CloudAccount.objects.for_tenant(admin.tenant).get(pk=target.pk).customer_id == acme.pk

    # A file with errors: shown by line, next to nothing to apply.
    page.goto(base + reverse("cloud:import"))
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"account_id,customer\n12,Nobody\n"}]
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("table")).to_contain_text("An AWS account id is exactly 12 digits.")
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    look(page, f"csv-import-errors-{width}")
    assert browser_errors == []
