"""Pagination that stays fast on late pages.

An OFFSET costs the rows it skips: page 2,000 of 100,000 accounts walks 99,950 index entries
before it returns 50. When a page lies in the second half of the list, the same rows are read
from the other end instead (the ordering reversed, a small offset, the rows flipped back), so
the last page costs what the first does and the middle is the worst case. That is only exact
for an ordering that is total, which is why it applies only when the ordering ends in the
primary key; any other list is paginated as Django does.

A page that still has many rows to skip (the middle of a long list) first finds only the primary
keys of its rows, which the database reads from the index of the sort without touching the
table, then the rows themselves by key, in one statement (`pk IN (SELECT pk ... LIMIT n OFFSET
m)`): the skipped rows cost an index entry each instead of a whole row and its joins.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet

UNIQUE_TAILS = frozenset({"id", "-id", "pk", "-pk"})
# From how many skipped rows a page reads its keys first.
KEYS_FIRST_AFTER = 500


def _reversible(object_list: QuerySet[Any]) -> bool:
    if not object_list.ordered:
        return False
    order_by = object_list.query.order_by
    last = order_by[-1] if order_by else None
    return isinstance(last, str) and last in UNIQUE_TAILS and not object_list.query.distinct


class TwoEndedPaginator(Paginator[Any]):
    """Django's Paginator, reading pages of the second half from the end of the list. A page
    number given as text must be in ASCII digits (FULLWIDTH DIGIT TWO is not page 2)."""

    def validate_number(self, number: Any) -> int:
        if isinstance(number, str) and not number.isascii():
            raise PageNotAnInteger("That page number is not an integer")
        return super().validate_number(number)

    def page(self, number: Any) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        qs = self.object_list
        if not isinstance(qs, QuerySet) or not _reversible(qs):
            return Page(qs[bottom:top], number, self)
        if bottom > self.count // 2:
            rows = _slice(qs.reverse(), self.count - top, self.count - bottom)[::-1]
        else:
            rows = _slice(qs, bottom, top)
        return Page(rows, number, self)


def _slice(qs: QuerySet[Any], start: int, stop: int) -> list[Any]:
    if start < KEYS_FIRST_AFTER:
        return list(qs[start:stop])
    return list(qs.filter(pk__in=qs.values_list("pk", flat=True)[start:stop]))
