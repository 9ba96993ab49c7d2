"""customers.services.customers_import: customers from CSV (SPEC 10)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.core.csvfiles import ImportRefused
from cloudmsp.core.errors import PermissionDenied
from cloudmsp.customers.models import Customer
from cloudmsp.customers.services import customers_import
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = "company_name,first_name,last_name,email,city\n"


def names(tenant) -> list[str]:
    return sorted(Customer.objects.for_tenant(tenant).values_list("company_name", flat=True))


@pytest.fixture
def acme(admin):
    return CustomerFactory(tenant=admin.tenant, company_name="Acme", city="Paris")


def test_a_dry_run_answers_created_changed_unchanged_and_writes_nothing(admin, acme):
    CustomerFactory(tenant=admin.tenant, company_name="Globex", first_name="Ada", city="")
    data = (HEADER + "ACME,,,,Lyon\nglobex,,,,\nInitech,Bill,Lumbergh,bill@initech.test,Austin\n").encode()
    diff = customers_import(actor=admin, data=data)
    assert (diff.created, diff.changed, diff.unchanged, diff.error_count) == (1, 1, 1, 0)
    assert diff.samples["changed"] == [{"line": 2, "company_name": "Acme", "changes": {"city": ["Paris", "Lyon"]}}]
    assert diff.samples["created"][0]["company_name"] == "Initech"
    assert names(admin.tenant) == ["Acme", "Globex"]
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="customer.import").exists()


def test_applying_creates_and_updates_with_an_audit_event_each(admin, acme):
    data = (HEADER + "Acme,,,,Lyon\nInitech,Bill,Lumbergh,Bill@Initech.test,Austin\n").encode()
    diff = customers_import(actor=admin, data=data, dry_run=False)
    assert diff.applied
    assert names(admin.tenant) == ["Acme", "Initech"]
    acme.refresh_from_db()
    assert acme.city == "Lyon"
    initech = Customer.objects.for_tenant(admin.tenant).get(company_name="Initech")
    assert (initech.email, initech.city) == ("bill@initech.test", "Austin")
    events = AuditEvent.objects.for_tenant(admin.tenant).filter(action="customer.import")
    assert sorted(e.object_repr for e in events) == ["Acme", "Initech"]
    assert next(e for e in events if e.object_repr == "Acme").changes == {"city": ["Paris", "Lyon"]}


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("Initech,,Lumbergh,bill@initech.test,Austin", "first_name", "cannot be blank"),
        ("Initech,Bill,Lumbergh,not-an-email,Austin", "email", "valid email"),
        ("acme,,,,Rome", "company_name", "“acme” is already on line 2."),
        (",Bill,Lumbergh,bill@initech.test,", "company_name", "a company name is required"),
        ("Initech,Bill,Lumbergh,bill@initech.test,@SUM(A1)", "city", "runs as a formula"),
        ("Initech,Bill,Lumbergh,bill@initech.test," + "x" * 101, "city", "at most 100 characters"),
        ("Initech\u202e,Bill,Lumbergh,bill@initech.test,Austin", "company_name", "U+202E"),
    ],
)
def test_each_bad_line_is_reported_and_nothing_is_applied(admin, acme, line, column, message):
    data = (HEADER + "Acme,,,,Lyon\n" + line + "\n").encode()
    diff = customers_import(actor=admin, data=data)
    assert [(e.line, e.column) for e in diff.errors] == [(3, column)], diff.errors
    assert message in diff.errors[0].message
    with pytest.raises(ImportRefused):
        customers_import(actor=admin, data=data, dry_run=False)
    acme.refresh_from_db()
    assert acme.city == "Paris"
    assert names(admin.tenant) == ["Acme"]


def test_the_exports_counts_are_read_back_and_ignored(admin, acme):
    data = b"company_name,city,account_count,user_count\nAcme,Paris,3,1\n"
    diff = customers_import(actor=admin, data=data)
    assert (diff.unchanged, diff.error_count) == (1, 0)


def test_another_tenants_customer_of_the_same_name_is_not_touched(admin):
    other = CustomerFactory(company_name="Acme", city="Berlin")
    customers_import(actor=admin, data=(HEADER + "Acme,Ann,Lee,ann@acme.test,Oslo\n").encode(), dry_run=False)
    other.refresh_from_db()
    assert other.city == "Berlin"
    assert names(admin.tenant) == ["Acme"]


def _statements(admin, n: int, start: int) -> int:
    rows = "".join(f"Co {start + i},Ann,Lee,ann{start + i}@x.test,Oslo\n" for i in range(n))
    with CaptureQueriesContext(connection) as ctx:
        customers_import(actor=admin, data=(HEADER + rows).encode(), dry_run=False)
    return len(ctx.captured_queries)


def test_statements_do_not_grow_with_the_rows(admin):
    _statements(admin, 1, 0)
    assert _statements(admin, 3, 100) == _statements(admin, 300, 200)


def test_customer_users_may_not_import(customer_user):
    with pytest.raises(PermissionDenied):
        customers_import(actor=customer_user, data=HEADER.encode())
