"""Checks for user-supplied text: what every free-text field accepts."""

import unicodedata

from django.core.exceptions import ValidationError

# Control characters other than tab/newline, the Unicode "other" categories that render as
# nothing or reorder text (bidi overrides), and unpaired surrogates are refused outright.
_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_BIDI_CONTROLS = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def validate_plain_text(value: str) -> None:
    """Refuse NUL, control characters, bidi overrides and unassigned code points."""
    for ch in value:
        if ch in "\t\n\r":
            continue
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise ValidationError(
                "Remove the invisible or control character (U+%(cp)04X) from this text.",
                code="control_character",
                params={"cp": ord(ch)},
            )


def normalize(value: str) -> str:
    """NFC-normalise and strip surrounding whitespace, so lookalike duplicates compare equal."""
    return unicodedata.normalize("NFC", value).strip()


def email_key(value: object) -> str:
    """The one form of an email that the sign-in lockout and the rate limits count under ("" if it
    is not text): normalised and case-folded, so that every spelling the database's
    case-insensitive match takes for one address is counted as that address. Lower-casing is not
    enough: PostgreSQL's UPPER() makes LATIN SMALL LETTER LONG S an "S" and lower() keeps it, so
    "sam@x.test" spelt with a long s would have had a budget of its own for that account."""
    return normalize(value).casefold() if isinstance(value, str) else ""


# What a spreadsheet would run as a formula at the start of a cell (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A value for a CSV export: text that a spreadsheet would read as a formula is prefixed
    with an apostrophe, so it is shown, not run."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text
