"""Database triggers, as a migration operation with SQL for each database.

Some values are kept by the database itself, in the transaction of the write that changes them,
whatever wrote it (the ORM, `insert_rows`, a bulk UPDATE): counters, search tokens. Their SQL is
one `DatabaseTriggers` operation per concern, run by `migrate`; the test suite (which builds its
tables without migrations) applies the same operations (tests/rls_setup.py).
"""

from __future__ import annotations

from typing import Any, override

from django.db.migrations.operations.base import Operation


class DatabaseTriggers(Operation):
    """Migration operation: run `forwards[vendor]` (a list of statements) on the database of
    that vendor, `backwards[vendor]` to undo them; other databases are left alone."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, name: str, forwards: dict[str, list[str]], backwards: dict[str, list[str]]) -> None:
        self.name = name
        self.forwards = forwards
        self.backwards = backwards

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.name, self.forwards, self.backwards], {})

    def forwards_sql(self, vendor: str) -> list[str]:
        return list(self.forwards.get(vendor, []))

    def backwards_sql(self, vendor: str) -> list[str]:
        return list(self.backwards.get(vendor, []))

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    @override
    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        for statement in self.forwards_sql(schema_editor.connection.vendor):
            schema_editor.execute(statement, params=None)

    @override
    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        for statement in self.backwards_sql(schema_editor.connection.vendor):
            schema_editor.execute(statement, params=None)

    def describe(self) -> str:
        return f"Database triggers: {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"triggers_{self.name}"
