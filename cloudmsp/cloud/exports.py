"""The columns of the account lists' CSV export (SPEC 10), shared by the API and the pages. The
second column, `customer`, is the company name, as the assignment import reads it."""

from __future__ import annotations

from datetime import datetime

from cloudmsp.core.csvfiles import Column


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


ACCOUNT_COLUMNS: tuple[Column, ...] = (
    ("account_id", lambda a: a.account_id),
    ("customer", lambda a: a.customer.company_name if a.customer_id else ""),
    ("name", lambda a: a.name),
    ("email", lambda a: a.email),
    ("provider", lambda a: a.provider),
    ("category", lambda a: a.category),
    ("kind", lambda a: a.kind),
    ("parent", lambda a: a.parent.account_id if a.parent_id else ""),
    ("ou_path", lambda a: a.ou_path),
    ("aws_state", lambda a: a.aws_state),
    ("onboarding_status", lambda a: a.onboarding_status),
    ("role_arn", lambda a: a.role_arn),
    ("health", lambda a: a.health),
    ("health_since", lambda a: _iso(a.health_since)),
    ("last_validated_at", lambda a: _iso(a.last_validated_at)),
)
