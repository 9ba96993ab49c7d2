"""cloudmsp/audit/views.py: the audit log page shows names, not ids, in a fixed number of
queries, and keeps search, sort, page size and the outcome together in its URL."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _linked(admin, customer, n: int) -> None:
    for i in range(n):
        account = CloudAccountFactory(tenant=admin.tenant, name=f"linked-{i}")
        AuditEvent.unscoped.create(
            tenant=admin.tenant,
            action="cloud_account.link",
            object_type="cloudaccount",
            object_id=str(account.pk),
            object_repr=str(account),
            changes={"customer": [None, customer.pk]},
        )


def test_the_audit_log_names_objects_and_customers_instead_of_ids(admin_client, admin):
    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")
    _linked(admin, acme, 1)
    long = "x" * 250
    AuditEvent.unscoped.create(
        tenant=admin.tenant, action="webhook.create", object_type="webhook", changes={"url": [None, long]}
    )
    html = admin_client.get(reverse("audit:list"), **HTMX).content.decode()
    assert '<div class="table-scroll">' in html
    assert "Cloud account" in html
    assert "linked-0" in html
    assert "Acme Corporation" in html
    assert f"→ {acme.pk}" not in html
    assert "cloudaccount #" not in html
    assert re.search(r"<strong>Customer</strong>: <span[^>]*>—</span> → <span[^>]*>Acme Corporation</span>", html)
    assert f'title="{long}"' in html  # the whole of a long value is in its tooltip


def test_the_audit_log_resolves_names_in_a_fixed_number_of_queries(admin_client, admin, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme Corporation")
    _linked(admin, acme, 2)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse("audit:list"), **HTMX)
    _linked(admin, acme, 20)
    with django_assert_max_num_queries(len(few)):
        html = admin_client.get(reverse("audit:list"), {"per_page": 50}, **HTMX).content.decode()
    assert html.count(">Acme Corporation</span>") == 22


def test_the_audit_log_keeps_search_sort_page_size_and_outcome_together(admin_client, admin):
    for i in range(30):
        AuditEvent.unscoped.create(tenant=admin.tenant, action="customer.update", object_repr=f"Seen {i}")
    query = {"q": "Seen", "sort": "action", "per_page": "10", "outcome": "success"}
    html = unescape(admin_client.get(reverse("audit:list"), query).content.decode())

    links = re.findall(r'href="{}\?([^"]*)"'.format(reverse("audit:list")), html)
    sort_and_pages = [u for u in links if "sort=" in u or "page=" in u]
    assert sort_and_pages, "no sort or pagination links"
    for url in sort_and_pages:
        for part in ("q=Seen", "per_page=10", "outcome=success"):
            assert part in url, (part, url)
    assert re.search(r'<input type="hidden" name="sort" value="action">', html)
    assert re.search(r'<option value="success" selected>', html)  # the outcome, in the toolbar
    assert re.search(r'<option value="10" selected>', html)
    assert 'hx-include="#audit-table-state, #toolbar-audit-table"' in html
