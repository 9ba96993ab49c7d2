"""The columns of the customers list's CSV export (SPEC 10), shared by the API and the page: the
customer's fields under the names the customer import reads, then its counts."""

from __future__ import annotations

from cloudmsp.core.csvfiles import Column
from cloudmsp.customers.services import CUSTOMER_FIELDS


def _field(name: str) -> Column:
    return (name, lambda c: getattr(c, name))


CUSTOMER_COLUMNS: tuple[Column, ...] = (
    *(_field(name) for name in CUSTOMER_FIELDS),
    ("account_count", lambda c: getattr(c, "account_count", "")),
    ("user_count", lambda c: getattr(c, "user_count", "")),
)
