"""Row-level security in the test database (PostgreSQL).

The suite runs with --no-migrations, so the policies the migrations create are applied here from
those same migration operations. And since superusers (the `postgres` the suite connects as)
bypass row-level security, every connection then switches to APP_ROLE, an ordinary role like the
one production uses (SET ROLE through Django's `assume_role` option): the whole suite, its pages
and API requests included, runs with the policies in force.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from django.apps import apps
from django.db import connection, connections

from cloudmsp.core.triggers import DatabaseTriggers
from cloudmsp.tenancy.rls import TenantRowLevelSecurity

APP_ROLE = "cloudmsp_test_app"


def migration_operations[O](kind: type[O]) -> list[tuple[str, O]]:
    """("app_label.migration_name", operation) for every operation of type `kind` in the
    installed apps' migrations, read from the migration files themselves, in their order."""
    found = []
    for app_config in apps.get_app_configs():
        package = f"{app_config.name}.migrations"
        try:
            migrations = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(migrations.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{package}.{info.name}")
            migration = getattr(module, "Migration", None)
            for operation in getattr(migration, "operations", ()):
                if isinstance(operation, kind):
                    found.append((f"{app_config.label}.{info.name}", operation))
    return found


def rls_operations() -> list[tuple[str, TenantRowLevelSecurity]]:
    return migration_operations(TenantRowLevelSecurity)


def trigger_operations() -> list[DatabaseTriggers]:
    """The DatabaseTriggers operations of the installed apps' migrations, in migration order."""
    return [operation for _, operation in migration_operations(DatabaseTriggers)]


def install_triggers() -> None:
    """What the migrations' DatabaseTriggers do, on the test (or benchmark) database that was
    built without migrations: the counters and indexes the database keeps itself."""
    with connection.cursor() as cursor:
        for operation in trigger_operations():
            for statement in operation.forwards_sql(connection.vendor):
                cursor.execute(statement)


def _prepare_database() -> None:
    with connection.cursor() as cursor:
        for _, operation in rls_operations():
            for statement in operation.forwards_sql():
                cursor.execute(statement)
        # The role belongs to the server, shared by parallel runs: create it once, and make sure
        # it can neither bypass row-level security nor do more than an application may.
        cursor.execute(
            f"""
            DO $$ BEGIN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """
        )
        cursor.execute(f"ALTER ROLE {APP_ROLE} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")


@contextmanager
def running_as_app_role(django_db_blocker: Any | None = None) -> Iterator[None]:
    """Around the session's test database (and the benchmark's): policies applied, connections
    as APP_ROLE. `django_db_blocker` is pytest-django's, where database access is blocked."""
    if connection.vendor != "postgresql":
        yield
        return
    options = connection.settings_dict.setdefault("OPTIONS", {})
    unblock = django_db_blocker.unblock if django_db_blocker is not None else nullcontext
    with unblock():
        _prepare_database()
        options["assume_role"] = APP_ROLE
        connections.close_all()
    try:
        yield
    finally:
        with unblock():
            # The test database is dropped by the user that created it.
            options.pop("assume_role", None)
            connections.close_all()
