"""cloud.services.imports: account-to-customer mappings from CSV (SPEC 10)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudmsp.audit.models import AuditEvent
from cloudmsp.cloud.models import CloudAccount, OwnershipCause, OwnershipInterval
from cloudmsp.cloud.services.association import accounts_associate
from cloudmsp.cloud.services.imports import assignments_import
from cloudmsp.core.csvfiles import ImportRefused
from cloudmsp.core.errors import PermissionDenied
from tests.factories import CloudAccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def csv_of(*rows: tuple[str, str]) -> bytes:
    return ("account_id,customer\n" + "".join(f"{a},{c}\n" for a, c in rows)).encode()


def owners(tenant) -> dict[str, str | None]:
    rows = CloudAccount.objects.for_tenant(tenant).values_list("account_id", "customer__company_name")
    return dict(rows)


@pytest.fixture
def setup(admin):
    acme = CustomerFactory(tenant=admin.tenant, company_name="Acme")
    globex = CustomerFactory(tenant=admin.tenant, company_name="Globex")
    _a1, a2, a3 = (CloudAccountFactory(tenant=admin.tenant, account_id=f"10000000000{i}") for i in (1, 2, 3))
    accounts_associate(actor=admin, customer=acme, account_ids=[a2.pk, a3.pk])
    return acme, globex


def test_a_dry_run_answers_the_diff_and_writes_nothing(admin, setup):
    before = (owners(admin.tenant), AuditEvent.unscoped.count(), OwnershipInterval.unscoped.count())
    diff = assignments_import(
        actor=admin, data=csv_of(("100000000001", "acme"), ("100000000002", "Globex"), ("100000000003", "ACME"))
    )
    assert (diff.created, diff.changed, diff.unchanged, diff.error_count) == (1, 1, 1, 0)
    assert diff.samples["changed"] == [{"line": 3, "account_id": "100000000002", "from": "Acme", "to": "Globex"}]
    assert not diff.applied
    assert (owners(admin.tenant), AuditEvent.unscoped.count(), OwnershipInterval.unscoped.count()) == before


def test_applying_changes_exactly_the_diff_with_history_and_audit(admin, setup):
    acme, globex = setup
    diff = assignments_import(
        actor=admin,
        data=csv_of(("100000000001", "Globex"), ("100000000002", ""), ("100000000003", "Acme")),
        dry_run=False,
    )
    assert diff.applied
    assert (diff.created, diff.changed, diff.unchanged) == (1, 1, 1)
    assert owners(admin.tenant) == {"100000000001": "Globex", "100000000002": None, "100000000003": "Acme"}
    events = AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.import")
    assert sorted(e.object_repr for e in events) == ["100000000001", "100000000002"]
    opened = OwnershipInterval.objects.for_tenant(admin.tenant).filter(cause=OwnershipCause.IMPORT)
    assert [(i.account.account_id, i.customer_id) for i in opened] == [("100000000001", globex.pk)]
    closed = OwnershipInterval.objects.for_tenant(admin.tenant).filter(closed_by=OwnershipCause.IMPORT)
    assert [(i.account.account_id, i.customer_id) for i in closed] == [("100000000002", acme.pk)]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (("12345", "Acme"), "account_id", "exactly 12 digits"),
        (("\uff11" * 12, "Acme"), "account_id", "exactly 12 digits"),
        (("100000000001", "Initech"), "customer", "no customer named “Initech”"),
        (("999999999999", "Acme"), "account_id", "no account 999999999999 in your tenant."),
        (("100000000003", "Acme"), "account_id", "account 100000000003 is already on line 2."),
        (("100000000001", "=cmd|' /C calc'!A0"), "customer", "a spreadsheet runs as a formula"),
    ],
)
def test_each_bad_line_is_reported_and_nothing_is_applied(admin, setup, row, column, message):
    before = (owners(admin.tenant), AuditEvent.unscoped.count())
    data = csv_of(("100000000003", "Globex"), row)
    diff = assignments_import(actor=admin, data=data)
    assert [(e.line, e.column) for e in diff.errors] == [(3, column)]
    assert message in diff.errors[0].message
    with pytest.raises(ImportRefused) as exc:
        assignments_import(actor=admin, data=data, dry_run=False)
    assert exc.value.diff.error_count == 1
    assert (owners(admin.tenant), AuditEvent.unscoped.count()) == before


def test_a_foreign_tenants_account_reads_like_a_missing_one(admin, setup):
    foreign = CloudAccountFactory(account_id="555555555555")
    messages = [
        assignments_import(actor=admin, data=csv_of((account_id, "Acme"))).errors[0].message
        for account_id in (foreign.account_id, "666666666666")
    ]
    assert messages[0].replace("555555555555", "X") == messages[1].replace("666666666666", "X")
    assert CloudAccount.unscoped.get(pk=foreign.pk).customer_id is None


def test_a_foreign_tenants_customer_is_unknown(admin, setup):
    CustomerFactory(company_name="Foreign Co")
    diff = assignments_import(actor=admin, data=csv_of(("100000000001", "Foreign Co")))
    assert [e.column for e in diff.errors] == ["customer"]


def _statements(admin, lines: int, customers) -> int:
    rows = [
        (a.account_id, customers[i % len(customers)].company_name)
        for i, a in enumerate(CloudAccountFactory.create_batch(lines, tenant=admin.tenant))
    ]
    with CaptureQueriesContext(connection) as ctx:
        assignments_import(actor=admin, data=csv_of(*rows), dry_run=False)
    return len(ctx.captured_queries)


def test_a_fixed_number_of_statements_whatever_the_number_of_lines(admin):
    customers = [CustomerFactory(tenant=admin.tenant) for _ in range(2)]
    _statements(admin, 1, customers)  # once first: the database's one-off feature checks
    small = _statements(admin, 5, customers)
    large = _statements(admin, 60, customers)
    assert small == large, (small, large)
    # Reads of the file's accounts and of the customers, the lock, the end of the open history
    # intervals, then per customer: audit, open the next interval, change (plus the
    # transaction's own savepoint and release).
    assert large == 4 + 3 * len(customers) + 2


def test_customer_users_may_not_import(customer_user):
    with pytest.raises(PermissionDenied):
        assignments_import(actor=customer_user, data=csv_of(("100000000001", "Acme")))


def test_a_change_made_since_the_file_was_read_refuses_the_whole_import(admin, setup, monkeypatch):
    from cloudmsp.cloud.services import imports
    from cloudmsp.core.errors import ConflictError

    _acme, globex = setup
    plan = imports._plan

    def plan_then_someone_else_changes(tenant_id, table):
        planned = plan(tenant_id, table)
        CloudAccount.objects.for_tenant(admin.tenant).filter(account_id="100000000002").update(customer=globex)
        return planned

    monkeypatch.setattr(imports, "_plan", plan_then_someone_else_changes)
    with pytest.raises(ConflictError):
        assignments_import(actor=admin, data=csv_of(("100000000001", "Globex"), ("100000000002", "")), dry_run=False)
    assert owners(admin.tenant)["100000000001"] is None
    assert not AuditEvent.objects.for_tenant(admin.tenant).filter(action="cloud_account.import").exists()
