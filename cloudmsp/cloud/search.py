"""Account search through a token index that works under row-level security.

A substring search (`LIKE '%x%'`) of a tenant's accounts is a scan: PostgreSQL cannot use an
index for it under row-level security (`LIKE` is not leakproof, so it is only evaluated after the
policy's own filter), and a trigram index would not be read. Equality and `>=`/`<` on text are
leakproof, so the search looks words up in a table of tokens instead (`AccountSearchToken`,
one row per distinct word of an account's id, name, email and OU path, plus its account id
reversed), by equality or by prefix range, with the tenant first in the index: a lookup reads
the matching entries of one tenant only, and the policies still apply to every row it reads.

The tokens are written by the database itself, in the transaction of every write to an account
(cloud migration 0013: triggers; on SQLite through `sqlite_search_tokens`, registered on each
connection), split at the same characters as here (ASCII punctuation and whitespace), from the
upper-cased `search_text`. A search is upper-cased by the database too, as the column was.

What a search finds: the accounts whose id, name, email or OU contains the search (as a
substring, checked on each candidate) and where the words of the search begin words: "prod"
finds "Production", not "reproduction"; "prod/web" finds "Root/Prod/Web"; an account id is found
by its first or its last digits ("5555", "7777" find 555566667777). The words looked up are the
rarest ones of the search (counted in the index, `RAREST_CAP` at most); every word after the first
is at the start of a word anyway once the whole search is a substring, so the one loose end is a
first word that is not looked up, which may then end a longer word ("ember-1-00" finds
"member-1-00" when "1" and "00" are rarer than "ember"). And, beside these, the accounts of the
customers whose company name contains the search.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# The characters that separate words: ASCII whitespace, control characters and punctuation.
# The triggers of migration 0013 split with the same class.
_SEPARATOR_CLASS = r"\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f"
SEPARATORS = re.compile(f"[{_SEPARATOR_CLASS}]+")
WORD = re.compile(f"[^{_SEPARATOR_CLASS}]+")
# Stored tokens are cut at this length; a longer word of a search is looked up by its prefix.
TOKEN_LENGTH = 64
# The marker before an account id reversed: a separator, so no word of a name can begin with it.
REVERSED = "~"
# Above every character: the end of the range of the tokens that begin with a prefix.
TOP = "\U0010ffff"
# At most this many words of a search are candidates for a lookup (the first and the longest),
# counted up to RAREST_CAP entries each to choose the rarest; the rest are checked on the
# candidates only.
MAX_LOOKUPS = 3
RAREST_CAP = 10_000


def row_tokens(account_id: str | None, search_text: str | None) -> list[str]:
    """The tokens of an account: its words (of the upper-cased search_text), cut at
    TOKEN_LENGTH, and its account id reversed behind REVERSED, each once."""
    tokens = {word[:TOKEN_LENGTH] for word in SEPARATORS.split(search_text or "") if word}
    if account_id:
        tokens.add(REVERSED + account_id[::-1])
    return sorted(tokens)


def sqlite_search_tokens(account_id: str | None, search_text: str | None) -> str:
    """row_tokens as a JSON array, for the SQLite triggers (json_each)."""
    return json.dumps(row_tokens(account_id, search_text))


def register_sqlite_function(*, connection: Any, **kwargs: Any) -> None:
    """connection_created receiver: the function the SQLite triggers of migration 0013 call."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("cloudmsp_search_tokens", 2, sqlite_search_tokens, deterministic=True)


@dataclass(frozen=True)
class Lookup:
    """One word of a search to look up: the tokens equal to `text`, or beginning with it; or,
    for a search of digits only, also the account ids that end with them (`reversed_digits`)."""

    text: str
    exact: bool = False
    reversed_digits: str = ""


def lookups(search: str) -> list[Lookup]:
    """The words of `search` that may be looked up in the token index (the first and the longest,
    MAX_LOOKUPS at most), or [] when the search has no word (punctuation only: the caller scans).
    Each word begins a word of the account: a word the search ends (a separator follows it) is a
    whole word there, looked up by equality; the last one, by prefix."""
    words = [(m.group(), m.end() < len(search)) for m in WORD.finditer(search)]
    found: list[Lookup] = []
    for text, right in words:
        exact = right and len(text) < TOKEN_LENGTH
        digits = text[::-1] if len(words) == 1 and text.isascii() and text.isdigit() else ""
        lookup = Lookup(text[:TOKEN_LENGTH], exact=exact, reversed_digits=digits[: TOKEN_LENGTH - 1])
        if lookup not in found:
            found.append(lookup)
    first, rest = found[:1], sorted(found[1:], key=lambda lookup: (-len(lookup.text), not lookup.exact))
    return (first + rest)[:MAX_LOOKUPS]
