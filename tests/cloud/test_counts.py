"""The counters the database keeps (cloud migration 0012): a management account's members and
onboarded members, a customer's accounts. Whatever writes the accounts, and however many write at
once, each counter equals a recount of the rows."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cloudmsp.cloud import selectors
from cloudmsp.cloud.models import Category, CloudAccount, Kind, OnboardingStatus
from cloudmsp.cloud.services.association import accounts_associate, accounts_disassociate
from cloudmsp.core.errors import ConflictError
from cloudmsp.core.queries import insert_rows
from cloudmsp.customers.models import Customer
from tests.factories import CloudAccountFactory, CustomerFactory, TenantFactory, UserFactory
from tests.threads import run_together

pytestmark = pytest.mark.django_db


def _per(qs: Any, field: str) -> dict[int, int]:
    return dict(qs.values_list(field).annotate(n=Count("pk")).order_by().values_list(field, "n"))


def recount(tenant: Any) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """(members, onboarded members) per management account and accounts per customer, counted
    from the tenant's rows: what the counters must say."""
    rows = CloudAccount.objects.for_tenant(tenant)
    members = _per(rows.filter(parent__isnull=False), "parent_id")
    onboarded = _per(rows.filter(parent__isnull=False, onboarding_status=OnboardingStatus.ONBOARDED), "parent_id")
    accounts = _per(rows.filter(customer__isnull=False), "customer_id")
    payers = rows.filter(kind=Kind.MANAGEMENT).values_list("pk", flat=True)
    customers = Customer.objects.for_tenant(tenant).values_list("pk", flat=True)
    return (
        {pk: (members.get(pk, 0), onboarded.get(pk, 0)) for pk in payers},
        {pk: accounts.get(pk, 0) for pk in customers},
    )


def counters(tenant: Any) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    members = {
        pk: (n, o)
        for pk, n, o in CloudAccount.objects.for_tenant(tenant)
        .filter(kind=Kind.MANAGEMENT)
        .values_list("pk", "member_count", "onboarded_count")
    }
    accounts = dict(Customer.objects.for_tenant(tenant).values_list("pk", "account_count"))
    return members, accounts


def _management(tenant: Any, n: int) -> CloudAccount:
    return CloudAccountFactory(
        tenant=tenant, category=Category.MSP, kind=Kind.MANAGEMENT, account_id=f"9{n:011d}", name=f"Payer {n}"
    )


class World:
    """A tenant with management accounts, members and customers, changed by every kind of write
    the portal makes to accounts."""

    def __init__(self) -> None:
        self.tenant = TenantFactory()
        self.admin = UserFactory(tenant=self.tenant)
        self.payers = [_management(self.tenant, n) for n in range(3)]
        self.customers = [CustomerFactory(tenant=self.tenant) for _ in range(3)]
        self.serial = 0

    def _accounts(self) -> list[int]:
        return list(
            CloudAccount.objects.for_tenant(self.tenant).exclude(kind=Kind.MANAGEMENT).values_list("pk", flat=True)
        )

    def _next_id(self) -> str:
        self.serial += 1
        return f"{5 * 10**10 + self.serial:012d}"

    def apply(self, op: str, rnd: random.Random) -> None:
        getattr(self, op)(rnd)

    def _member(self, rnd: random.Random) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "category": Category.MSP,
            "kind": Kind.MEMBER,
            "parent": rnd.choice(self.payers),
            "account_id": self._next_id(),
            "customer": rnd.choice([None, *self.customers]),
            "onboarding_status": rnd.choice(OnboardingStatus.values),
        }

    def create(self, rnd: random.Random) -> None:  # the ORM, one row (a factory, as the pages do)
        CloudAccountFactory(**self._member(rnd))

    def bulk_create(self, rnd: random.Random) -> None:
        CloudAccount.unscoped.bulk_create(CloudAccount(**self._member(rnd)) for _ in range(rnd.randint(1, 6)))

    def insert_rows(self, rnd: random.Random) -> None:  # as discovery writes new members
        payer = rnd.choice(self.payers)
        rows = [{"account_id": self._next_id(), "external_id": f"x-{self.serial}"} for _ in range(rnd.randint(1, 6))]
        insert_rows(
            CloudAccount,
            rows,
            common={"tenant_id": self.tenant.pk, "category": Category.MSP, "kind": Kind.MEMBER, "parent_id": payer.pk},
        )

    def standalone(self, rnd: random.Random) -> None:
        CloudAccountFactory(tenant=self.tenant, account_id=self._next_id(), customer=rnd.choice(self.customers))

    def associate(self, rnd: random.Random) -> None:
        ids = rnd.sample(self._accounts(), k=min(4, len(self._accounts())))
        if ids:
            accounts_associate(actor=self.admin, customer=rnd.choice(self.customers), account_ids=ids)

    def disassociate(self, rnd: random.Random) -> None:
        ids = rnd.sample(self._accounts(), k=min(3, len(self._accounts())))
        if ids:
            accounts_disassociate(actor=self.admin, account_ids=ids)

    def onboard(self, rnd: random.Random) -> None:  # a bulk UPDATE, as the onboarding job's
        ids = rnd.sample(self._accounts(), k=min(3, len(self._accounts())))
        CloudAccount.objects.for_tenant(self.tenant).filter(pk__in=ids).update(
            onboarding_status=rnd.choice(OnboardingStatus.values)
        )

    def move(self, rnd: random.Random) -> None:  # an account moved to another organization
        members = list(CloudAccount.objects.for_tenant(self.tenant).filter(kind=Kind.MEMBER)[:2])
        for member in members:
            member.parent = rnd.choice(self.payers)
            member.save()

    def stale_save(self, rnd: random.Random) -> None:
        # An instance read now, saved after other writes changed its counters.
        payer = CloudAccount.objects.for_tenant(self.tenant).get(pk=rnd.choice(self.payers).pk)
        customer = Customer.objects.for_tenant(self.tenant).get(pk=rnd.choice(self.customers).pk)
        self.bulk_create(rnd)
        self.associate(rnd)
        payer.name = f"Renamed {self.serial}"
        payer.save()
        customer.city = f"City {self.serial}"
        customer.save()

    def delete_some(self, rnd: random.Random) -> None:
        ids = rnd.sample(self._accounts(), k=min(2, len(self._accounts())))
        CloudAccount.objects.for_tenant(self.tenant).filter(pk__in=ids).delete()

    def delete_customer(self, rnd: random.Random) -> None:  # its accounts become unassigned
        victim = self.customers.pop(rnd.randrange(len(self.customers)))
        victim.delete()
        self.customers.append(CustomerFactory(tenant=self.tenant))

    def delete_payer(self, rnd: random.Random) -> None:  # its members go with it
        victim = self.payers.pop(rnd.randrange(len(self.payers)))
        victim.delete()
        self.payers.append(_management(self.tenant, 100 + self.serial))
        self.serial += 1


OPERATIONS = [name for name in vars(World) if not name.startswith("_") and name != "apply"]


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(ops=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=12), seed=st.integers(0, 2**32))
def test_counters_equal_a_recount_after_any_writes(ops, seed):
    world = World()
    other = World()  # a second tenant written alike: its rows never count in the first one's
    rnd = random.Random(seed)
    for op in ops:
        world.apply(op, rnd)
        other.apply(op, rnd)
        assert counters(world.tenant) == recount(world.tenant), op
    assert counters(other.tenant) == recount(other.tenant)


def test_every_operation_is_exercised():
    assert set(OPERATIONS) >= {"create", "bulk_create", "insert_rows", "associate", "onboard", "stale_save"}
    assert len(OPERATIONS) == 12


def test_a_stale_instance_saved_keeps_the_counters(admin):
    payer = _management(admin.tenant, 1)
    customer = CustomerFactory(tenant=admin.tenant)
    stale_payer = CloudAccount.objects.for_tenant(admin.tenant).get(pk=payer.pk)
    stale_customer = Customer.objects.for_tenant(admin.tenant).get(pk=customer.pk)
    CloudAccountFactory.create_batch(
        3, tenant=admin.tenant, category=Category.MSP, kind=Kind.MEMBER, parent=payer, customer=customer
    )
    stale_payer.name, stale_customer.city = "Renamed", "Berlin"
    stale_payer.save()
    stale_customer.save()
    payer.refresh_from_db()
    customer.refresh_from_db()
    assert (payer.name, payer.member_count, customer.city, customer.account_count) == ("Renamed", 3, "Berlin", 3)


def test_the_msp_list_reads_the_counters_instead_of_counting(admin):
    payer = _management(admin.tenant, 1)
    CloudAccountFactory.create_batch(
        4,
        tenant=admin.tenant,
        category=Category.MSP,
        kind=Kind.MEMBER,
        parent=payer,
        onboarding_status=OnboardingStatus.ONBOARDED,
    )
    qs = selectors.msp_account_list(actor=admin)
    sql = str(qs.query).upper()
    assert sql.count("SELECT") == 1
    assert "COUNT(" not in sql
    [row] = qs
    assert (row.member_count, row.onboarded_count) == (4, 4)


def _bulk_changes(admin: Any, customers: list[Customer], ids: list[int], seed: int) -> list[str]:
    rnd = random.Random(seed)
    outcomes = []
    for _ in range(15):
        chosen = rnd.sample(ids, k=rnd.randint(5, 30))
        try:
            if rnd.random() < 0.6:
                accounts_associate(actor=admin, customer=rnd.choice(customers), account_ids=chosen)
            else:
                accounts_disassociate(actor=admin, account_ids=chosen)
            outcomes.append("changed")
        except ConflictError:
            outcomes.append("conflict")
        CloudAccount.objects.for_tenant(admin.tenant).filter(pk__in=rnd.sample(ids, k=10)).update(
            onboarding_status=rnd.choice(OnboardingStatus.values)
        )
    return outcomes


def test_counters_stay_exact_under_concurrent_bulk_changes(threads_db):
    tenant = TenantFactory()
    admins = [UserFactory(tenant=tenant, email=f"admin{i}@msp.test") for i in range(4)]
    payers = [_management(tenant, n) for n in range(2)]
    customers = [CustomerFactory(tenant=tenant) for _ in range(4)]
    ids = [
        a.pk
        for payer in payers
        for a in CloudAccountFactory.create_batch(
            40, tenant=tenant, category=Category.MSP, kind=Kind.MEMBER, parent=payer
        )
    ]
    results = run_together(*(partial(_bulk_changes, admin, customers, ids, seed) for seed, admin in enumerate(admins)))
    for result in results:
        assert not isinstance(result, BaseException), result
    assert sum(outcome == "changed" for result in results for outcome in result) > 0
    assert counters(tenant) == recount(tenant)
    assert (
        sum(c for c in counters(tenant)[1].values())
        == CloudAccount.objects.for_tenant(tenant).filter(customer__isnull=False).count()
    )
    if connection.vendor == "postgresql":  # the statement-level triggers, not a per-row path
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cloudmsp_account_counts_%' AND NOT tgisinternal"
            )
            assert cursor.fetchone() == (3,)
