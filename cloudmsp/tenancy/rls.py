"""Row-level security on PostgreSQL: defense in depth beneath the fail-closed managers.

Every tenant-owned table carries two policies (created by `TenantRowLevelSecurity` in
migrations), with ENABLE and FORCE ROW LEVEL SECURITY so they hold for the table owner too:

- `cloudmsp_tenant_isolation`: a row is visible and writable only when its tenant is the one in
  the setting `cloudmsp.tenant_id`;
- `cloudmsp_system_bypass`: every row, when the setting `cloudmsp.rls_bypass` is `on`.

With neither setting, a query sees nothing and can write nothing. Rows without a tenant (system
administrators, installation-level audit events) are reached only through the bypass.

Which settings a connection carries is decided here, by the *scope* of the code running:

- a web request runs with its signed-in user's scope (`request_scope`, installed by
  `cloudmsp.tenancy.middleware.RowLevelSecurityMiddleware`): a tenant's users with their tenant;
  system administrators, and the sign-in pages that look users up by credential before anyone
  is signed in, with the bypass. DRF signs API clients in inside the view; the scope follows.
- a background task runs with its job's tenant (`cloudmsp.cloud.tasks`);
- everything else runs with the process default: nothing in web processes, the bypass in
  `manage.py` (migrations, operations commands, the task worker, the demo) and in the tests.

An execute wrapper on each PostgreSQL connection brings the connection's session settings in line
with the current scope before every query, so the tenant can only come from the scope, a
reused connection (CONN_MAX_AGE, a pool) starts each request afresh, and threads (each with its
own connection and context) never share one. Settings made inside a transaction are undone by its
rollback; the wrapper notices and sets them again.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from django.db import connections
from django.db.migrations.operations.base import Operation
from django.utils.functional import LazyObject, empty

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.http import HttpRequest

    from cloudmsp.tenancy.models import Tenant

logger = logging.getLogger(__name__)

TENANT_SETTING = "cloudmsp.tenant_id"
BYPASS_SETTING = "cloudmsp.rls_bypass"
TENANT_POLICY = "cloudmsp_tenant_isolation"
BYPASS_POLICY = "cloudmsp_system_bypass"


@dataclass(frozen=True, slots=True)
class Scope:
    """What the database lets the running code see: one tenant's rows, every row (`bypass`),
    or nothing at all."""

    tenant_id: int | None = None
    bypass: bool = False

    @classmethod
    def of_tenant(cls, tenant: Tenant | int) -> Scope:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        if isinstance(tenant_id, bool) or not isinstance(tenant_id, int):
            raise TypeError("A tenant scope needs a saved tenant or its integer id.")
        return cls(tenant_id=tenant_id)

    def settings(self) -> tuple[str, str]:
        """The values of `cloudmsp.tenant_id` and `cloudmsp.rls_bypass` for this scope."""
        return ("" if self.tenant_id is None else str(self.tenant_id), "on" if self.bypass else "")


NOTHING = Scope()
SYSTEM = Scope(bypass=True)


class RequestScope:
    """The scope of a web request, read from its user at each query: the user is resolved
    lazily, changes at sign-in and sign-out, and is set by DRF inside API views."""

    __slots__ = ("request",)

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def resolve(self) -> Scope:
        user: Any = self.request.__dict__.get("user")
        while isinstance(user, LazyObject):
            wrapped = user._wrapped
            if wrapped is empty:
                # Authentication itself is running (the session's user, an API token): it
                # looks the user up across tenants, before anyone's tenant is known.
                return SYSTEM
            user = wrapped
        return scope_for_user(user)


def scope_for_user(user: Any) -> Scope:
    """A tenant's users see their tenant; system administrators work with the bypass. Anonymous
    visitors reach only the sign-in, activation and password-reset pages (LoginRequiredMiddleware
    and the API's permissions keep them from everything else), which find users by credential
    across tenants: they too run with the bypass."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    if getattr(user, "tenant_id", None) is not None:
        return Scope.of_tenant(user.tenant_id)
    if getattr(user, "is_sysadmin", False):
        return SYSTEM
    return NOTHING


_current: contextvars.ContextVar[Scope | RequestScope] = contextvars.ContextVar("cloudmsp_rls_scope")
_process_default: Scope = NOTHING


def set_process_default(scope: Scope) -> None:
    """The scope of code running outside any request or task: NOTHING unless an entry point
    says otherwise (manage.py and the tests choose SYSTEM)."""
    global _process_default
    _process_default = scope


def current() -> Scope:
    value = _current.get(None)
    if value is None:
        return _process_default
    if isinstance(value, RequestScope):
        return value.resolve()
    return value


@contextmanager
def _use(value: Scope | RequestScope) -> Iterator[None]:
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)
        sync_connections()


def tenant_scope(tenant: Tenant | int) -> AbstractContextManager[None]:
    """Run the block's queries as the tenant's: other tenants' rows do not exist for them."""
    return _use(Scope.of_tenant(tenant))


def system_scope() -> AbstractContextManager[None]:
    """Run the block's queries with the row-level security bypass on: system work only
    (migrations, operations commands, the worker finding a job, system administrators)."""
    return _use(SYSTEM)


def empty_scope() -> AbstractContextManager[None]:
    """Run the block's queries with neither a tenant nor the bypass: they see no tenant rows."""
    return _use(NOTHING)


def request_scope(request: HttpRequest) -> AbstractContextManager[None]:
    """Run a request with the scope of whoever is signed in, as that changes."""
    return _use(RequestScope(request))


# --- Applying the scope to connections ---------------------------------------------------

_APPLIED = "_cloudmsp_rls_applied"
_SET_SQL = f"SELECT set_config('{TENANT_SETTING}', %s, false), set_config('{BYPASS_SETTING}', %s, false)"
# libpq transaction states (psycopg 3 pq.TransactionStatus and psycopg2 alike).
_IDLE, _INERROR = 0, 3


@dataclass(frozen=True, slots=True)
class _Applied:
    scope: Scope
    # Set inside a transaction: a rollback would undo it.
    in_transaction: bool


def _sync(connection: BaseDatabaseWrapper) -> None:
    """Give the connection's session the current scope's settings, unless it has them."""
    raw = connection.connection
    if raw is None:
        return
    status = int(raw.info.transaction_status)
    if status == _INERROR:
        # Only a rollback can run now, and it may undo settings made in this transaction.
        setattr(connection, _APPLIED, None)
        return
    applied: _Applied | None = getattr(connection, _APPLIED, None)
    if applied is not None and applied.in_transaction and status == _IDLE:
        # The transaction that made these settings has ended, committed or rolled back.
        applied = None
    scope = current()
    if applied is not None and applied.scope == scope:
        return
    # A raw cursor, as Django's own session setup (time zone, role) uses: not a query of the
    # application's, so not counted by assertNumQueries.
    with raw.cursor() as cursor:
        cursor.execute(_SET_SQL, scope.settings())
    setattr(connection, _APPLIED, _Applied(scope, in_transaction=not raw.autocommit))


def _execute_in_scope(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    connection = context["connection"]
    _sync(connection)
    try:
        return execute(sql, params, many, context)
    finally:
        if isinstance(sql, str) and sql.lstrip()[:8].upper() == "ROLLBACK":
            # ROLLBACK TO SAVEPOINT undoes the settings made since that savepoint.
            setattr(connection, _APPLIED, None)


def sync_connections() -> None:
    """Apply the current scope now to this thread's open PostgreSQL connections, so that an idle
    connection does not keep a finished request's tenant. Best effort: whatever is not applied
    here is applied before the connection's next query."""
    for connection in connections.all(initialized_only=True):
        if connection.vendor != "postgresql" or connection.connection is None:
            continue
        try:
            _sync(connection)
        except Exception:
            # A broken connection: never mask the error that broke it. Its next query (if any)
            # sets the scope first or fails.
            setattr(connection, _APPLIED, None)
            logger.debug("Could not reset the row-level security scope", exc_info=True)


def on_connection_created(*, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: a new PostgreSQL session has no settings yet."""
    if connection.vendor != "postgresql":
        return
    setattr(connection, _APPLIED, None)
    if _execute_in_scope not in connection.execute_wrappers:
        # First in the list: the outermost wrapper, so it runs before any other wrapper's query.
        connection.execute_wrappers.insert(0, _execute_in_scope)


# --- Migrations ----------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*\Z")


class TenantRowLevelSecurity(Operation):
    """Migration operation: ENABLE and FORCE row-level security on `table`, with the tenant
    isolation and system bypass policies on its `column` (the tenant id; the tenant table's own
    `id`). A no-op on databases other than PostgreSQL.

    Every table with a tenant column needs one: tests/isolation/test_rls.py fails for a model
    with a foreign key to Tenant whose table no migration protects."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, column: str = "tenant_id") -> None:
        if not (_IDENTIFIER.match(table) and _IDENTIFIER.match(column)):
            raise ValueError(f"Not a plain table or column name: {table!r}, {column!r}")
        self.table = table
        self.column = column

    def forwards_sql(self) -> list[str]:
        table, column = f'"{self.table}"', f'"{self.column}"'
        # Scalar subqueries: evaluated once per query (an InitPlan), not once per row.
        mine = f"{column} = (SELECT NULLIF(current_setting('{TENANT_SETTING}', true), '')::bigint)"
        bypass = f"(SELECT current_setting('{BYPASS_SETTING}', true)) = 'on'"
        return [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS {TENANT_POLICY} ON {table}",
            f"CREATE POLICY {TENANT_POLICY} ON {table} USING ({mine}) WITH CHECK ({mine})",
            f"DROP POLICY IF EXISTS {BYPASS_POLICY} ON {table}",
            f"CREATE POLICY {BYPASS_POLICY} ON {table} USING ({bypass}) WITH CHECK ({bypass})",
        ]

    def backwards_sql(self) -> list[str]:
        table = f'"{self.table}"'
        return [
            f"DROP POLICY IF EXISTS {BYPASS_POLICY} ON {table}",
            f"DROP POLICY IF EXISTS {TENANT_POLICY} ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ]

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    @override
    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.forwards_sql():
                schema_editor.execute(statement)

    @override
    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.backwards_sql():
                schema_editor.execute(statement)

    def describe(self) -> str:
        return f"Row-level security on {self.table} (PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return f"rls_{self.table}"
