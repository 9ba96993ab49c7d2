"""Concurrent changes: optimistic versions for single objects, and lock conflicts turned into
409s for bulk changes. The same code serves SQLite (IMMEDIATE write transactions, one writer at
a time) and PostgreSQL (READ COMMITTED, row locks).

Versions. An object's version is its `updated_at`, which every save through the services
renews (no extra column). A client that read version V sends V back with its edit (the hidden
`version` field of the edit forms, `version` in the API); the view puts it on the object with
`hold_version`, and `cloudmsp.audit.services.update_with_audit` saves only if the row still has
that version, checked under a row lock in the saving transaction (`refuse_if_changed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.db import OperationalError, models

from cloudmsp.core.errors import ConflictError

# PostgreSQL: lock_not_available (NOWAIT), deadlock_detected.
_LOCK_SQLSTATES = {"55P03", "40P01"}


def version_of(updated_at: datetime) -> str:
    """The token a client sends back to say which state it saw."""
    return updated_at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_version(token: Any) -> datetime | None:
    """The `updated_at` a token stands for, or None if it is not a token."""
    if not isinstance(token, str) or len(token) > 64 or not token.isascii():
        return None
    try:
        value = datetime.fromisoformat(token)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def hold_version(obj: models.Model, token: str | datetime | None) -> None:
    """Make `obj` stand for the version the client saw, so that saving it through
    `update_with_audit` is refused (ConflictError) if the row has changed since. A token that
    is not one is refused the same way: the form or request is out of date."""
    if token is None or token == "":
        return
    held = token if isinstance(token, datetime) else parse_version(token)
    if held is None:
        raise ConflictError(f"This {obj._meta.verbose_name} form is out of date; reload it and try again.")
    obj.updated_at = held  # type: ignore[attr-defined]


def refuse_if_changed(obj: models.Model, held: datetime | None, message: str) -> None:
    """Inside the saving transaction: lock the object's row (PostgreSQL; SQLite's write
    transaction already excludes other writers) and raise ConflictError(message) unless its
    `updated_at` is still `held`. One statement."""
    if held is None:
        return
    # `_meta`, not type(obj): `obj` may be request.user, a lazy object.
    current = obj._meta.base_manager.select_for_update().filter(pk=obj.pk).values_list("updated_at", flat=True).first()
    if current != held:
        raise ConflictError(message)


def is_lock_conflict(exc: OperationalError) -> bool:
    """Whether the database refused because another transaction holds what we need: a row lock
    taken with NOWAIT or a deadlock (PostgreSQL), a database still locked after the busy
    timeout (SQLite)."""
    if getattr(exc.__cause__, "sqlstate", None) in _LOCK_SQLSTATES:
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


@contextmanager
def lock_conflicts(message: str) -> Iterator[None]:
    """Around a transaction: another transaction holding the rows (or SQLite's write lock)
    becomes ConflictError(message), a 409, instead of a 500."""
    try:
        yield
    except OperationalError as exc:
        if is_lock_conflict(exc):
            raise ConflictError(message) from exc
        raise
