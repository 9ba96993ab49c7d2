"""Tenant-owned querysets fail closed: a query that forgets the tenant raises."""

import pytest

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy.access import parse_id
from cloudmsp.tenancy.models import TenantScopeError
from cloudmsp.users.models import User
from tests.factories import CustomerFactory, CustomerUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Customer, CloudAccount, AuditEvent, User])
@pytest.mark.parametrize(
    "use",
    [
        lambda qs: list(qs),
        lambda qs: qs.count(),
        lambda qs: qs.exists(),
        lambda qs: qs.first(),
        lambda qs: qs.get(pk=1),
        lambda qs: qs.update(created_at=None),
        lambda qs: qs.delete(),
        lambda qs: list(qs.iterator()),
        lambda qs: qs.aggregate(n=__import__("django.db.models", fromlist=["Count"]).Count("pk")),
        lambda qs: list(qs.values_list("pk", flat=True)),
    ],
)
def test_unscoped_queries_raise(model, use):
    with pytest.raises(TenantScopeError):
        use(model.objects.filter(pk__gt=0))


def test_scoped_queries_see_only_their_tenant():
    mine = CustomerFactory()
    theirs = CustomerFactory()
    assert list(Customer.objects.for_tenant(mine.tenant)) == [mine]
    assert Customer.objects.for_tenant(theirs.tenant).filter(pk=mine.pk).count() == 0
    # Scoping survives chaining.
    assert Customer.objects.for_tenant(mine.tenant).filter(company_name__startswith="C").order_by("pk").exists()


def test_related_managers_of_a_scoped_row_work():
    customer = CustomerFactory()
    user = CustomerUserFactory(customer=customer)
    fetched = Customer.objects.for_tenant(customer.tenant).get(pk=customer.pk)
    assert list(fetched.users.all()) == [user]


def test_unscoped_is_the_deliberate_escape_hatch():
    a, b = CustomerFactory(), CustomerFactory()
    assert set(Customer.unscoped.values_list("pk", flat=True)) == {a.pk, b.pk}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        (7, 7),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("0", None),
        ("-1", None),
        ("1e3", None),
        ("abc", None),
        ("\uff11\uff12", None),  # full-width digits
        (True, None),
        (None, None),
        ("", None),
        ("1" * 40, None),
    ],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected
