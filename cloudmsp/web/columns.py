"""The column chooser of list tables: which columns of a table a user may hide, and which they
have hidden. Each app registers its tables (key, optional columns, the htmx event on which the
table reloads itself) when it is ready; a user's choice is kept in `User.preferences` as
{"hidden_columns": {table: [column, ...]}} and read here, so this shared base imports no app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    key: str
    #: The columns a user may hide, in their order: key -> header.
    columns: Mapping[str, str]
    #: The event (HX-Trigger) on which the table reloads itself, showing the new choice.
    event: str


TABLES: dict[str, Table] = {}


def register_table(table: Table) -> Table:
    TABLES[table.key] = table
    return table


def hidden_columns(preferences: object, table: str) -> list[str]:
    """The columns of `table` the preferences hide (unknown keys, from an older version of the
    table, are dropped)."""
    known = TABLES.get(table)
    if known is None or not isinstance(preferences, dict):
        return []
    chosen = preferences.get("hidden_columns", {})
    hidden = chosen.get(table, []) if isinstance(chosen, dict) else []
    return [c for c in known.columns if isinstance(hidden, list) and c in hidden]


def shown_columns(preferences: object, table: str) -> dict[str, bool]:
    """Every optional column of `table` -> whether it is shown."""
    hidden = set(hidden_columns(preferences, table))
    known = TABLES.get(table)
    return {c: c not in hidden for c in (known.columns if known else {})}


def with_hidden_columns(preferences: object, table: str, hidden: list[str]) -> dict[str, Any]:
    """The preferences with `hidden` (known columns of a registered `table`) as that table's
    hidden columns, the other tables' choices kept."""
    prefs = dict(preferences) if isinstance(preferences, dict) else {}
    chosen = prefs.get("hidden_columns")
    chosen = dict(chosen) if isinstance(chosen, dict) else {}
    chosen[table] = [c for c in TABLES[table].columns if c in hidden]
    prefs["hidden_columns"] = chosen
    return prefs
