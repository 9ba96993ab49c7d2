"""Account search through a token index that works under row-level security.

A substring search (`LIKE '%x%'`) of a tenant's accounts is a scan: PostgreSQL cannot use an
index for it under row-level security (`LIKE` is not leakproof, so it is only evaluated after the
policy's own filter), and a trigram index would not be read. Equality and `>=`/`<` on text are
leakproof, so the search looks its text up in a table of tokens instead (`AccountSearchToken`),
by prefix range, with the tenant first in the index: a lookup reads the matching entries of one
tenant only, and the policies still apply to every row it reads.

An account's tokens are the rest of each of its fields from every word on (cut at TOKEN_LENGTH
characters): "Root/Prod/Web" gives "ROOT/PROD/WEB", "PROD/WEB" and "WEB"; plus its account id
reversed. A search, its leading punctuation set aside, is then one range of the index whatever
its number of words: "prod/web" reads the tokens that begin with "PROD/WEB", exactly the
accounts where it begins a word, where looking up its words one by one ("PROD", "WEB") and
intersecting them read every account with a common word ("member" of "member-1-00": all of
them).

The tokens are written by the database itself, in the transaction of every write to an account
(cloud migrations 0013 and 0014: triggers; on SQLite through `sqlite_search_tokens`, registered
on each connection), with words split at the same characters as here (ASCII punctuation and
whitespace), from the upper-cased `search_text`. A search is upper-cased by the database too, as
the column was.

What a search finds: the accounts whose id, name, email or OU contains the search, beginning at
the start of a word: "prod" finds "Production", not "reproduction"; "prod/web" finds
"Root/Prod/Web"; "duction web" finds nothing; an account id is found by its first or its last
digits ("5555", "7777" find 555566667777). A search with leading punctuation ("@shop") or longer
than a token is looked up without it, or by its beginning, and then checked as a substring on
each candidate. And, beside these, the accounts of the customers whose company name contains
the search.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# The characters that separate words: ASCII whitespace, control characters and punctuation.
# PostgreSQL's tokenizer (migration 0014) finds words with the same class.
_SEPARATOR_CLASS = r"\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f"
WORD = re.compile(f"[^{_SEPARATOR_CLASS}]+")
# Stored tokens are cut at this length; a longer word of a search is looked up by its prefix.
TOKEN_LENGTH = 64
# The marker before an account id reversed: a separator, so no word of a name can begin with it.
REVERSED = "~"
# Above every character: the end of the range of the tokens that begin with a prefix.
TOP = "\U0010ffff"


def row_tokens(account_id: str | None, search_text: str | None) -> list[str]:
    """The tokens of an account: in each line of the upper-cased search_text (one per field),
    the text from the start of each word to the end of the line, cut at TOKEN_LENGTH; and its
    account id reversed behind REVERSED; each once."""
    tokens = {
        line[word.start() : word.start() + TOKEN_LENGTH]
        for line in (search_text or "").split("\n")
        for word in WORD.finditer(line)
    }
    if account_id:
        tokens.add(REVERSED + account_id[::-1])
    return sorted(tokens)


def sqlite_search_tokens(account_id: str | None, search_text: str | None) -> str:
    """row_tokens as a JSON array, for the SQLite triggers (json_each)."""
    return json.dumps(row_tokens(account_id, search_text))


def register_sqlite_function(*, connection: Any, **kwargs: Any) -> None:
    """connection_created receiver: the function the SQLite triggers of migration 0013 call
    (migration 0014 rewrote the tokens with it)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("cloudmsp_search_tokens", 2, sqlite_search_tokens, deterministic=True)


@dataclass(frozen=True)
class Lookup:
    """What a search looks up: the tokens that begin with `text` (the search from its first
    word on, cut at TOKEN_LENGTH) or, for a search of digits only, the account ids that end with
    them (`reversed_digits`). `complete` when a token that begins with `text` is a match in
    itself, with no substring check: the search had no leading punctuation and fitted."""

    text: str
    reversed_digits: str = ""
    complete: bool = True


def lookup(search: str) -> Lookup | None:
    """The lookup of `search`, or None when it has no word (punctuation only: the caller scans)."""
    first = WORD.search(search)
    if first is None:
        return None
    text = search[first.start() :]
    digits = text[::-1] if text.isascii() and text.isdigit() else ""
    return Lookup(
        text[:TOKEN_LENGTH],
        reversed_digits=digits[: TOKEN_LENGTH - 1],
        complete=first.start() == 0 and len(text) <= TOKEN_LENGTH,
    )
