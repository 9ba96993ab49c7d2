from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce


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
