"""Row-level security, PostgreSQL's defense in depth beneath the fail-closed managers: a query
that forgets the tenant, run on purpose here, still sees and touches only the current tenant's
rows, and nothing at all without a tenant or the bypass.

The suite connects as an ordinary role on PostgreSQL (tests/rls_setup.py): superusers bypass
row-level security, and the first test below makes sure these tests cannot quietly run as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from cloudmsp.audit.models import AuditEvent
from cloudmsp.audit.services import audit_record
from cloudmsp.cloud.models import CloudAccount, Job, JobKind
from cloudmsp.core.queries import insert_rows
from cloudmsp.customers import selectors as customer_selectors
from cloudmsp.customers.models import Customer
from cloudmsp.tenancy import rls
from cloudmsp.tenancy.models import Tenant, TenantOwnedModel
from cloudmsp.users.authentication import token_issue
from cloudmsp.users.models import User
from tests.factories import (
    CloudAccountFactory,
    CustomerFactory,
    CustomerUserFactory,
    SysadminFactory,
    TenantFactory,
    UserFactory,
)
from tests.rls_setup import APP_ROLE, rls_operations

postgres_only = pytest.mark.skipif(connection.vendor == "sqlite", reason="PostgreSQL-only: row-level security")


def _tenant_owned_models() -> list[Any]:
    """Every model with a tenant column, and the tenant itself (its tenant column is `id`)."""
    from django.apps import apps

    found = [Tenant]
    for model in apps.get_models():
        if any(f.is_relation and f.related_model is Tenant and f.concrete for f in model._meta.get_fields()):
            found.append(model)
    return found


# --- Every tenant-owned table is protected ----------------------------------------------------


def test_every_model_with_a_tenant_is_protected_by_a_migration():
    """A new model with a tenant (a TenantOwnedModel, or any foreign key to Tenant) cannot ship
    without row-level security: add `TenantRowLevelSecurity("<its table>")` to a migration."""
    models = _tenant_owned_models()
    labels = {m._meta.label for m in models}
    # The discovery itself cannot shrink unnoticed.
    assert {"tenancy.Tenant", "users.User", "audit.AuditEvent", "customers.Customer", "cloud.CloudAccount"} <= labels
    assert {"cloud.Job"} <= labels
    from django.apps import apps

    for model in apps.get_models():
        if issubclass(model, TenantOwnedModel):
            assert model in models, model
    protected = {op.table: op.column for _, op in rls_operations()}
    missing = {m._meta.db_table for m in models} - protected.keys()
    assert not missing, f"Tables with a tenant and no row-level security migration: {sorted(missing)}"
    for model in models:
        column = "id" if model is Tenant else model._meta.get_field("tenant").column
        assert protected[model._meta.db_table] == column, model


@postgres_only
@pytest.mark.django_db
def test_the_suite_queries_as_an_ordinary_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (APP_ROLE, False, False)


@postgres_only
@pytest.mark.django_db
def test_every_table_with_a_tenant_has_forced_row_level_security_and_both_policies():
    tables = [m._meta.db_table for m in _tenant_owned_models()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)", [tables]
        )
        flags = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute(
            "SELECT tablename, policyname, cmd, permissive FROM pg_policies WHERE tablename = ANY(%s)", [tables]
        )
        policies: dict[str, set[Any]] = {}
        for table, name, cmd, permissive in cursor.fetchall():
            policies.setdefault(table, set()).add((name, cmd, permissive))
    for table in tables:
        assert flags[table] == (True, True), table
        assert policies.get(table) == {
            (rls.TENANT_POLICY, "ALL", "PERMISSIVE"),
            (rls.BYPASS_POLICY, "ALL", "PERMISSIVE"),
        }, table


# --- Unscoped queries, on purpose ---------------------------------------------------------------


@dataclass
class Side:
    tenant: Tenant
    admin: User
    customer: Customer
    account: CloudAccount
    job: Job


def _side(name: str) -> Side:
    tenant = TenantFactory(name=name)
    admin = UserFactory(tenant=tenant, email=f"admin@{name.lower()}.test")
    customer = CustomerFactory(tenant=tenant, company_name=f"{name} Customer")
    CustomerUserFactory(customer=customer)
    account = CloudAccountFactory(tenant=tenant, customer=customer)
    job = Job.unscoped.create(tenant=tenant, kind=JobKind.SYNC)
    audit_record(actor=admin, action="customer.create", obj=customer)
    return Side(tenant, admin, customer, account, job)


@pytest.fixture
def sides(db) -> tuple[Side, Side]:
    a, b = _side("Alpha"), _side("Bravo")
    SysadminFactory(email="root@install.test")
    audit_record(actor=None, action="tenant.create", tenant_id=None, object_repr="installation-level")
    return a, b


def _raw(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tenants_of(model: Any) -> set[int | None]:
    return set(model.unscoped.values_list("tenant_id", flat=True))


@postgres_only
def test_unscoped_reads_see_only_the_current_tenant(sides):
    a, b = sides
    with rls.tenant_scope(a.tenant):
        assert list(Customer.unscoped.all()) == [a.customer]
        assert list(CloudAccount.unscoped.all()) == [a.account]
        assert list(Job.unscoped.all()) == [a.job]
        assert _tenants_of(User) == {a.tenant.pk}  # no other tenant's users, no system administrator
        assert _tenants_of(AuditEvent) == {a.tenant.pk}  # no installation-level event either
        assert list(Tenant.objects.all()) == [a.tenant]
        assert [row[0] for row in _raw("SELECT id FROM customers_customer")] == [a.customer.pk]
        assert _raw("SELECT count(*) FROM customers_customer WHERE tenant_id = %s", [b.tenant.pk]) == [(0,)]
        # Joins and subqueries are filtered too.
        assert _raw("SELECT count(*) FROM cloud_cloudaccount a JOIN customers_customer c ON c.id = a.customer_id") == [
            (1,)
        ]
        assert Customer.unscoped.get(pk=a.customer.pk) == a.customer
        with pytest.raises(Customer.DoesNotExist):
            Customer.unscoped.get(pk=b.customer.pk)


@postgres_only
def test_unscoped_updates_and_deletes_touch_only_the_current_tenant(sides):
    a, b = sides
    with rls.tenant_scope(a.tenant):
        assert Customer.unscoped.update(description="touched") == 1
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cloud_cloudaccount SET name = 'touched'")
            assert cursor.rowcount == 1
            cursor.execute("DELETE FROM cloud_job")
            assert cursor.rowcount == 1
        assert User.unscoped.filter(role="customer_user").delete()[0] == 1
    # The system's view: bravo's rows are as they were.
    assert Customer.unscoped.get(pk=b.customer.pk).description == ""
    assert CloudAccount.unscoped.get(pk=b.account.pk).name != "touched"
    assert Job.unscoped.filter(pk=b.job.pk).exists()
    assert not Job.unscoped.filter(pk=a.job.pk).exists()
    assert User.unscoped.filter(tenant=b.tenant, role="customer_user").count() == 1
    assert Customer.unscoped.get(pk=a.customer.pk).description == "touched"


@postgres_only
def test_rows_cannot_be_written_into_another_tenant(sides):
    a, b = sides
    with rls.tenant_scope(a.tenant):
        for write in (
            lambda: CustomerFactory(tenant=b.tenant),
            lambda: Customer.unscoped.filter(pk=a.customer.pk).update(tenant=b.tenant),
            lambda: audit_record(actor=None, action="x", tenant_id=None),  # an installation-level event
            lambda: _raw("UPDATE customers_customer SET tenant_id = %s RETURNING id", [b.tenant.pk]),
            lambda: insert_rows(
                CloudAccount,
                [{"account_id": "100000000001"}],
                common={"tenant_id": b.tenant.pk, "category": "non_msp", "kind": "standalone"},
            ),
        ):
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                write()
    assert Customer.unscoped.filter(tenant=b.tenant).count() == 1
    assert Customer.unscoped.get(pk=a.customer.pk).tenant_id == a.tenant.pk


@postgres_only
def test_without_a_tenant_or_the_bypass_nothing_is_there(sides):
    with rls.empty_scope():
        for model in _tenant_owned_models():
            assert not model._default_manager.exists(), model
        assert _raw("SELECT count(*) FROM customers_customer") == [(0,)]
        assert Customer.unscoped.update(description="x") == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            CustomerFactory(tenant=sides[0].tenant)


@postgres_only
def test_the_bypass_sees_every_row_and_rows_without_a_tenant_only_through_it(sides):
    a, b = sides
    with rls.system_scope():
        assert _tenants_of(Customer) == {a.tenant.pk, b.tenant.pk}
        assert _tenants_of(User) == {a.tenant.pk, b.tenant.pk, None}
        assert _tenants_of(AuditEvent) == {a.tenant.pk, b.tenant.pk, None}
    with rls.tenant_scope(a.tenant):
        assert not User.unscoped.filter(tenant__isnull=True).exists()
        assert not AuditEvent.unscoped.filter(tenant__isnull=True).exists()


# --- The scope follows the code, through rollbacks --------------------------------------------


def _session_settings() -> tuple[str, str]:
    """What the connection's session carries now, read past the scope wrapper."""
    with connection.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT current_setting('{rls.TENANT_SETTING}', true), current_setting('{rls.BYPASS_SETTING}', true)"
        )
        tenant_id, bypass = cursor.fetchone()
    return tenant_id or "", bypass or ""


def _signed_in(user: User) -> HttpRequest:
    request = HttpRequest()
    request.user = user
    return request


@postgres_only
def test_a_rolled_back_savepoint_does_not_leave_a_stale_scope(sides):
    a, b = sides
    request = _signed_in(a.admin)
    with rls.request_scope(request):
        assert _tenants_of(Customer) == {a.tenant.pk}
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            _sign_in_and_fail(request, b)  # signed in as someone else inside a savepoint...
        # ...which rolled back, undoing the settings made in it: they are made again.
        assert _tenants_of(Customer) == {b.tenant.pk}

        with rls.tenant_scope(a.tenant):
            assert _tenants_of(Customer) == {a.tenant.pk}
            with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
                _fail_in_the_database_as(b)
            assert _tenants_of(Customer) == {a.tenant.pk}
    assert _tenants_of(Customer) == {a.tenant.pk, b.tenant.pk}


def _sign_in_and_fail(request: HttpRequest, side: Side) -> None:
    request.user = side.admin
    assert _tenants_of(Customer) == {side.tenant.pk}
    raise ZeroDivisionError


def _fail_in_the_database_as(side: Side) -> None:
    with rls.tenant_scope(side.tenant):
        assert _tenants_of(Customer) == {side.tenant.pk}
        # An aborted transaction: leaving the scope cannot reset the settings (and does not hide
        # this error trying); the rollback does, and the next query sets them again.
        _raw("SELECT 1 / 0")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_does_not_leave_a_stale_scope():
    a, b = _side("Alpha"), _side("Bravo")
    request = _signed_in(a.admin)
    with rls.request_scope(request):
        assert _tenants_of(Customer) == {a.tenant.pk}
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            _sign_in_and_fail(request, b)
        assert _session_settings() == (str(a.tenant.pk), "")  # undone by the rollback...
        assert _tenants_of(Customer) == {b.tenant.pk}  # ...and made again before the next query
    assert _tenants_of(Customer) == {a.tenant.pk, b.tenant.pk}


# --- Requests and tasks -----------------------------------------------------------------------


@pytest.fixture
def forgotten_tenant_filter(monkeypatch):
    """The customer selectors with their tenant filter forgotten: the bug RLS is there for."""

    def everyone(actor: Any) -> Any:
        return Customer.unscoped.all()

    monkeypatch.setattr(customer_selectors, "customers_visible_to", everyone)


def _names(body: Any) -> set[str]:
    return {row["company_name"] for row in body["results"]}


@postgres_only
def test_a_tenant_administrators_pages_and_api_see_only_their_tenant_despite_a_forgotten_filter(
    sides, client_for, api_for, forgotten_tenant_filter
):
    a, b = sides
    page = client_for(a.admin).get(reverse("customers:list"))
    assert page.status_code == 200
    assert "Alpha Customer" in page.text
    assert "Bravo Customer" not in page.text

    response = api_for(a.admin).get("/api/v1/customers/")
    assert response.status_code == 200
    assert _names(response.json()) == {"Alpha Customer"}

    # With an API token: DRF signs the caller in inside the view, and the scope follows.
    _, secret = token_issue(user=b.admin, name="rls")
    response = Client().get("/api/v1/customers/", headers={"Authorization": f"Token {secret}"})
    assert response.status_code == 200
    assert _names(response.json()) == {"Bravo Customer"}


@postgres_only
def test_requests_work_normally_and_leave_no_tenant_on_the_connection(sides, client_for, monkeypatch):
    a, b = sides
    alpha, bravo = client_for(a.admin), client_for(b.admin)
    # A web process: outside requests, no scope at all.
    monkeypatch.setattr(rls, "_process_default", rls.NOTHING)
    response = alpha.get(reverse("customers:list"))
    assert response.status_code == 200
    assert "Alpha Customer" in response.text
    assert _session_settings() == ("", "")
    assert not Customer.unscoped.exists()  # and outside a request, nothing is visible

    # The same connection, reused by the next request of another tenant.
    response = bravo.get(reverse("customers:list"))
    assert "Bravo Customer" in response.text
    assert "Alpha Customer" not in response.text


@postgres_only
def test_system_administrators_read_across_tenants(sides, client_for):
    response = client_for(User.unscoped.get(email="root@install.test")).get(reverse("tenants:list"))
    assert response.status_code == 200
    assert "Alpha" in response.text
    assert "Bravo" in response.text


@postgres_only
def test_a_task_runs_with_its_jobs_tenant_not_the_bypass(sides, monkeypatch):
    from cloudmsp.cloud import tasks

    _, b = sides
    seen: dict[str, Any] = {}

    def organization_sync(job: Job) -> dict[str, Any]:
        seen["settings"] = _raw(
            f"SELECT current_setting('{rls.TENANT_SETTING}', true), current_setting('{rls.BYPASS_SETTING}', true)"
        )[0]
        seen["customers"] = set(Customer.unscoped.values_list("company_name", flat=True))
        return {}

    monkeypatch.setattr(tasks, "organization_sync", organization_sync)
    tasks.run_sync.call(b.job.pk)
    assert seen == {"settings": (str(b.tenant.pk), ""), "customers": {"Bravo Customer"}}


@postgres_only
def test_streamed_content_is_produced_in_the_requests_scope(sides, rf):
    from django.http import StreamingHttpResponse

    from cloudmsp.tenancy.middleware import RowLevelSecurityMiddleware

    a, _ = sides

    def rows() -> Any:
        for customer in Customer.unscoped.order_by("company_name"):
            yield f"{customer.company_name}\n"

    request = rf.get("/export.csv")
    request.user = a.admin
    response = RowLevelSecurityMiddleware(lambda _request: StreamingHttpResponse(rows()))(request)
    assert b"".join(response.streaming_content) == b"Alpha Customer\n"


@postgres_only
@pytest.mark.django_db
def test_the_database_check_warns_about_a_role_that_bypasses_row_level_security():
    from cloudmsp.tenancy.checks import role_is_subject_to_row_level_security

    assert role_is_subject_to_row_level_security(databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")  # back to the superuser the suite connects as
        try:
            [warning] = role_is_subject_to_row_level_security(databases=["default"])
        finally:
            cursor.execute(f"SET ROLE {APP_ROLE}")
    assert warning.id == "tenancy.W001"
