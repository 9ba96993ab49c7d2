"""TwoEndedPaginator reads late pages from the end of the list; every page must hold exactly the
rows Django's own Paginator gives, for every sort the account lists offer (nullable and joined
keys and ties included), also when a page reads its keys first, and both tricks must really
happen."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.cloud.models import CloudAccount, OnboardingStatus
from cloudmsp.cloud.selectors import ACCOUNT_ORDERINGS
from cloudmsp.core import pagination
from cloudmsp.core.pagination import TwoEndedPaginator
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(tenant):
    customers = [CustomerFactory(tenant=tenant, company_name=name) for name in ("Beta", "Alpha", "Gamma")]
    for i in range(23):
        CloudAccountFactory(
            tenant=tenant,
            name=f"name-{i % 4}",  # ties
            customer=customers[i % 4] if i % 4 < 3 else None,  # and accounts without a customer
            onboarding_status=OnboardingStatus.ONBOARDED if i % 3 == 0 else OnboardingStatus.NOT_ONBOARDED,
        )
    return CloudAccount.objects.for_tenant(tenant).select_related("customer")


@pytest.mark.parametrize("keys_first_after", [pagination.KEYS_FIRST_AFTER, 2])
@pytest.mark.parametrize("ordering", sorted(ACCOUNT_ORDERINGS))
@pytest.mark.parametrize("per_page", [1, 5, 10, 50])
def test_every_page_matches_djangos_paginator(accounts, ordering, per_page, keys_first_after, monkeypatch):
    monkeypatch.setattr(pagination, "KEYS_FIRST_AFTER", keys_first_after)
    qs = accounts.order_by(*ACCOUNT_ORDERINGS[ordering])
    expected = Paginator(qs, per_page)
    actual = TwoEndedPaginator(qs, per_page)
    assert actual.num_pages == expected.num_pages
    for number in expected.page_range:
        assert [a.pk for a in actual.page(number)] == [a.pk for a in expected.page(number)], (ordering, number)


def test_orphans_are_kept(accounts):
    qs = accounts.order_by("name", "id")
    expected, actual = Paginator(qs, 5, orphans=3), TwoEndedPaginator(qs, 5, orphans=3)
    assert [[a.pk for a in actual.page(n)] for n in actual.page_range] == [
        [a.pk for a in expected.page(n)] for n in expected.page_range
    ]


def test_a_late_page_is_read_from_the_end(accounts):
    paginator = TwoEndedPaginator(accounts.order_by("account_id", "id"), 5)
    with CaptureQueriesContext(connection) as ctx:
        list(paginator.page(paginator.num_pages))
    order_by = ctx.captured_queries[-1]["sql"].upper().split("ORDER BY")[-1]
    assert "DESC" in order_by  # the last page: the first 3 rows from the end
    assert "OFFSET" not in order_by


def test_an_ordering_that_is_not_total_is_paginated_as_django_does(accounts):
    paginator = TwoEndedPaginator(accounts.order_by("name"), 5)
    with CaptureQueriesContext(connection) as ctx:
        list(paginator.page(paginator.num_pages))
    order_by = ctx.captured_queries[-1]["sql"].upper().split("ORDER BY")[-1]
    assert "DESC" not in order_by
    assert "OFFSET 20" in order_by


def test_a_page_deep_in_the_list_reads_its_keys_first(accounts, monkeypatch):
    monkeypatch.setattr(pagination, "KEYS_FIRST_AFTER", 5)
    paginator = TwoEndedPaginator(accounts.order_by("name", "id"), 5)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(paginator.page(2))  # skips 5 rows: at the threshold
    page = ctx.captured_queries[-1]["sql"]
    keys = page.split(" IN (SELECT ")[1]  # one statement, the keys in a subquery
    assert "customers_customer" not in keys.split("FROM")[0]  # only the keys are selected
    assert "LIMIT 5 OFFSET 5" in keys
    assert "OFFSET" not in page.split(" IN (SELECT ")[0]
    assert [a.pk for a in rows] == [a.pk for a in Paginator(accounts.order_by("name", "id"), 5).page(2)]
