"""Ownership history (SPEC 10): every change of an account's customer closes one interval and
opens the next, in the change's transaction, in a fixed number of statements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.cloud.models import OwnershipCause, OwnershipInterval
from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate
from cloudmsp.customers.services import customer_delete
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _history(account) -> list[tuple]:
    return [
        (i.customer_name, i.valid_from, i.valid_to, i.cause, i.closed_by)
        for i in OwnershipInterval.unscoped.filter(account=account).order_by("id")
    ]


def test_each_change_closes_one_interval_and_opens_the_next(admin, time_machine):
    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme")
    globex = CustomerFactory(tenant=admin.tenant, company_name="Globex")
    account = CloudAccountFactory(tenant=admin.tenant)
    time_machine.move_to(T0, tick=False)
    accounts_associate(actor=admin, customer=acme, account_ids=[account.pk])
    time_machine.move_to(T0 + dt.timedelta(days=3), tick=False)
    accounts_associate(actor=admin, customer=globex, account_ids=[account.pk])
    accounts_associate(actor=admin, customer=globex, account_ids=[account.pk])  # unchanged: no new interval
    time_machine.move_to(T0 + dt.timedelta(days=7), tick=False)
    accounts_disassociate(actor=admin, account_ids=[account.pk])
    assert _history(account) == [
        ("Acme", T0, T0 + dt.timedelta(days=3), "manual", "manual"),
        ("Globex", T0 + dt.timedelta(days=3), T0 + dt.timedelta(days=7), "manual", "manual"),
    ]
    interval = OwnershipInterval.unscoped.filter(account=account).first()
    assert interval is not None
    assert (interval.actor_id, interval.actor_email) == (admin.pk, admin.email)


def test_a_bulk_change_takes_the_same_statements_for_1_or_40_accounts(admin):
    acme = CustomerFactory(tenant=admin.tenant)
    one = [CloudAccountFactory(tenant=admin.tenant).pk]
    many = [CloudAccountFactory(tenant=admin.tenant).pk for _ in range(40)]
    with CaptureQueriesContext(connection) as single:
        accounts_associate(actor=admin, customer=acme, account_ids=one)
    with CaptureQueriesContext(connection) as bulk:
        accounts_associate(actor=admin, customer=acme, account_ids=many)
    assert len(bulk.captured_queries) == len(single.captured_queries)
    assert OwnershipInterval.unscoped.filter(valid_to__isnull=True, cause=OwnershipCause.BULK).count() == 40


def test_deleting_a_customer_ends_its_intervals_and_keeps_its_name(admin):
    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme")
    account = CloudAccountFactory(tenant=admin.tenant)
    accounts_associate(actor=admin, customer=acme, account_ids=[account.pk])
    customer_delete(actor=admin, customer=acme)
    (interval,) = OwnershipInterval.unscoped.filter(account=account)
    assert interval.customer_id is None
    assert interval.customer_name == "Acme"
    assert interval.valid_to is not None
    assert interval.closed_by == OwnershipCause.CUSTOMER_DELETED
