from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import CharField, Count, Expression, F, Field, Lookup, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.related import ForeignObject
from django.db.models.functions import Coalesce
from django.utils import timezone


def count_of(model: Any, field: str, **filters: Any) -> Coalesce:
    """An annotation counting `model` rows whose `field` points at the outer row (and that match
    `filters`), as one correlated subquery: no JOIN fan-out, only computed for the rows returned
    (a page), 0 when there are none."""
    sub = (
        model._default_manager.filter(**{field: OuterRef("pk")}, **filters)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sub), Value(0))


def count_related(model: Any, relation: str, **filters: Any) -> Coalesce:
    """`count_of` through the reverse relation `relation` of `model` (its related_name): an app
    counts the rows of an app above it (a customer's accounts) without importing that app."""
    rel = model._meta.get_field(relation)
    return count_of(rel.related_model, rel.field.name, **filters)


# Below every database's limit on bound parameters in one statement (SQLite's is the lowest).
IN_CHUNK = 900


def chunks[T](items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def id_set(ids: list[int]) -> RawSQL:
    """A subquery yielding `ids`, bound as ONE parameter (a JSON or array value), so a statement
    filtering on any number of ids stays one statement below every parameter limit."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(list(ids)),))


class InValues(Lookup[Any]):
    """`field__in_values=[...]`: the column is one of these ids (or texts), bound as ONE
    parameter whatever their number, tested where the column is, which each database answers by
    hashing or an index scan whatever plan it picks: PostgreSQL `= ANY(array)`, SQLite
    `IN (SELECT value FROM json_each(...))`. Unlike `__in=id_set(ids)`, no subquery for the
    planner to nest: with statistics that do not know the rows written earlier in the
    transaction, PostgreSQL may run that join as a loop over both (seconds at 20,000 values)."""

    lookup_name = "in_values"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Text or ids by the column's type, not the values' (an empty list has none).
        texts = self.lhs.output_field.get_internal_type() in ("CharField", "TextField")
        values = [str(v) for v in self.rhs] if texts else [int(v) for v in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{'text' if texts else 'bigint'}[])", [*lhs_params, values]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]  # noqa: S608 (lhs is the compiled column)


Field.register_lookup(InValues)
ForeignObject.register_lookup(InValues)  # foreign keys have lookups of their own


def in_values(field: str, values: list[int] | list[str]) -> Q:
    """A filter: `field` is one of `values` (the `in_values` lookup)."""
    return Q(**{f"{field}__in_values": list(values)})


def like_pattern(glob: str) -> str:
    """A LIKE pattern (escape character `\\`) for a glob: `*` any run of characters, `?` one,
    everything else itself; runs of `*` are one."""
    glob = re.sub(r"\*+", "*", glob)
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


class IGlob(Lookup[Any]):
    """`field__iglob="acme-*"`: the text matches the glob (core.queries.like_pattern), case
    folded. LIKE, not a regular expression: both databases match it without the backtracking a
    regular expression of many `.*` takes on a row that does not match."""

    lookup_name = "iglob"

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, tuple[str]]:  # noqa: ARG002 (Django's signature)
        return "%s", (like_pattern(str(value)),)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


Field.register_lookup(IGlob)


class JsonKeyText(Expression):
    """The text at `key` of the JSON object in `column` (NULL when absent). Unlike Django's
    KeyTextTransform, a key of digits ("2024") stays a key, never an array index, and any
    character may be in it; the key is a bound parameter on both databases."""

    output_field = CharField()

    def __init__(self, column: str, key: str) -> None:
        super().__init__()
        self.column: Any = F(column)
        self.key = key

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Any) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            return f"({column} ->> %s)", [*params, self.key]
        # json_each compares the key as a string: no JSON path to quote.
        return f"(SELECT value FROM json_each({column}) WHERE key = %s)", [*params, self.key]  # noqa: S608


# Rows per INSERT statement of insert_rows on PostgreSQL (its arrays hold this many values each).
INSERT_CHUNK = 5_000


def insert_rows(model: Any, rows: list[dict[str, Any]], *, common: dict[str, Any]) -> int:
    """INSERT many rows of `model` without building a model instance per row: each row gives the
    same fields (by attname: `tenant_id`, not `tenant`), `common` the values all rows share.
    Every other field takes its default (`auto_now`/`auto_now_add`: the current time; a
    `db_default`: the database's); a field whose default is computed per row (a callable, such
    as uuid4) must be given in the rows. An auto-incremented primary key is left to the
    database, and the new rows' ids are not read back. Values are prepared once per column where
    they are shared.

    On PostgreSQL one INSERT ... SELECT FROM unnest() per INSERT_CHUNK rows, with one array per
    varying column; on SQLite one executemany. The statement is built from the model's own
    table and column names only; every value is a bound parameter. Both go through the
    connection's execute wrappers (row-level security included), and the columns' own limits
    apply as to any INSERT. Discovering 10,000 members takes 0.6 s with it on PostgreSQL, 1.4 s
    with bulk_create."""
    if not rows:
        return 0
    varying = list(rows[0])
    fields = [f for f in model._meta.concrete_fields if not f.generated and not getattr(f, "db_returning", False)]
    _check_rows(model, fields, rows, varying, common)
    per_row = [f for f in fields if f.attname in varying]
    shared = _shared_values([f for f in fields if f.attname not in varying], common)
    columns = [*shared, *per_row]
    q = connection.ops.quote_name
    insert = f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(str(f.column)) for f in columns)})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            select = ", ".join([*(["%s"] * len(shared)), "u.*"])
            # Arrays of the bare type (varchar, not varchar(200)): a cast to varchar(n) would cut
            # an over-long value short, where the INSERT into the column refuses it.
            arrays = ", ".join(f"%s::{_bare(f.cast_db_type(connection))}[]" for f in per_row)
            sql = f"{insert} SELECT {select} FROM unnest({arrays}) AS u"  # noqa: S608 (names from the model)
            for part in chunks(rows, INSERT_CHUNK):
                values = [[f.get_db_prep_save(row[f.attname], connection) for row in part] for f in per_row]
                cursor.execute(sql, [*shared.values(), *values])
        else:
            sql = f"{insert} VALUES ({', '.join(['%s'] * len(columns))})"
            head = list(shared.values())
            cursor.executemany(
                sql, [head + [f.get_db_prep_save(row[f.attname], connection) for f in per_row] for row in rows]
            )
    return len(rows)


def _check_rows(
    model: Any, fields: list[Field[Any, Any]], rows: list[dict[str, Any]], varying: list[str], common: dict[str, Any]
) -> None:
    unknown = set(varying).union(common) - {f.attname for f in fields}
    if unknown:
        raise FieldDoesNotExist(f"insert_rows: {model.__name__} has no writable column {', '.join(sorted(unknown))}.")
    if not varying or any(list(row) != varying for row in rows):
        raise ValueError("insert_rows: every row must give the same fields, at least one, in the same order.")
    if both := set(varying).intersection(common):
        raise ValueError(f"insert_rows: {', '.join(sorted(both))} given both per row and in common.")


def _shared_values(fields: list[Field[Any, Any]], common: dict[str, Any]) -> dict[Field[Any, Any], Any]:
    """The database values of the columns every row shares: given in `common`, or the field's
    default; columns with a database default are left out, for the database to fill in."""
    now = timezone.now()
    shared: dict[Field[Any, Any], Any] = {}
    for field in fields:
        if field.attname in common:
            value = common[field.attname]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_db_default():
            continue
        elif field.has_default() and callable(field.default) and field.default not in (dict, list):
            # dict and list give an empty value, the same for every row; uuid4 would not.
            raise ValueError(f"insert_rows: {field.attname} has a per-row default; give it in each row.")
        else:
            value = field.get_default()
        shared[field] = field.get_db_prep_save(value, connection)
    return shared


def _bare(db_type: str | None) -> str:
    """A column type without its length or precision: varchar(200) -> varchar."""
    return re.sub(r"\(.*?\)", "", str(db_type))


def refresh_planner_statistics() -> None:
    """After a large write (a discovery that added accounts), let SQLite's query planner know the
    tables' sizes: without statistics it may pick a tenant index over the primary key. An
    approximate ANALYZE (analysis_limit) reads a bounded sample, about 10 ms at 100,000
    accounts. PostgreSQL's autovacuum keeps its own statistics."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


def insert_select(model: Any, columns: tuple[str, ...], select: Any) -> int:
    """INSERT INTO `model`'s table (`columns`) the rows of `select`, a `.values()` queryset whose
    fields are, in order, the columns' values: one statement built by the database from the rows
    it reads, whatever their number. Goes through the connection's execute wrappers (row-level
    security included). Returns how many rows were inserted."""
    select_sql, params = select.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {select_sql}", params)
        return int(cursor.rowcount)
