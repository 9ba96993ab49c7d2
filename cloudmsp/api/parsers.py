"""The API's JSON parser: DRF's, with the body's size and nesting capped before it is parsed.

Python's json module parses nested arrays and objects recursively, so `[[[...]]]` ten thousand
deep raises RecursionError, which is not a ValueError and would answer 500. No body of this API
nests more than a few levels, so the depth is counted first (strings left out) and anything
deeper than MAX_DEPTH is refused, as is a body larger than `settings.API_MAX_BODY_BYTES`; both
answer in the API's error format. Numbers too large for a float (`1e999`) are refused too, like
the NaN and Infinity literals DRF already refuses: none of them is JSON a client means.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from itertools import accumulate
from typing import Any, override

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32

# A JSON string, escapes included, or an unclosed one up to the end of the body. The possessive
# `*+` and the unclosed case make every match succeed where it starts without backtracking, so
# the scan is linear: with a pattern that can fail, an unclosed string of escaped quotes
# (`"\"\"\"...`) is tried again from every quote in it, quadratic in the body's size.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {text[:20]}")
    return value


class JSONParser(parsers.JSONParser):
    @override
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit: int = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]  # not in the stubs
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is not valid {encoding}: {exc}") from None
        if nesting_depth(text) > MAX_DEPTH:
            raise exceptions.ParseError(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
        try:
            return json.loads(text, parse_constant=strict_constant, parse_float=_finite)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:  # cannot happen below MAX_DEPTH; never a 500 all the same
            raise exceptions.ParseError(f"The JSON body is nested more than {MAX_DEPTH} levels deep.") from None
