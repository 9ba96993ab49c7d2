"""`manage.py check --database default` (and `migrate`): warn when the database role skips
row-level security, which would leave the policies of cloudmsp.tenancy.rls without effect."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import connections


@register(Tags.database)
def role_is_subject_to_row_level_security(databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
        if row and (row[1] or row[2]):
            messages.append(
                Warning(
                    f"Database {alias!r} is used as role {row[0]!r}, which bypasses row-level security: "
                    "tenant isolation then rests on the application alone.",
                    hint="Connect as a role with NOSUPERUSER NOBYPASSRLS (see the README, Production).",
                    id="tenancy.W001",
                )
            )
    return messages
