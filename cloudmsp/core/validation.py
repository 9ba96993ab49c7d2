"""Model validation helpers shared by every service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models

T = TypeVar("T")


def ascii_int(value: object, *, max_digits: int = 19) -> int | None:
    """A non-negative integer written in ASCII digits alone, or None. `int()` also reads other
    scripts' digits (FULLWIDTH or ARABIC-INDIC DIGIT ONE and TWO are 12 to it), which would let
    look-alike input through."""
    if isinstance(value, str) and 0 < len(value) <= max_digits and value.isascii() and value.isdigit():
        return int(value)
    return None


def validate_model(instance: models.Model, *, field_for_code: Mapping[str, str] | None = None) -> None:
    """`full_clean()`, with constraint errors moved onto the field they are about, so that forms
    and the API show them next to that field. `field_for_code` maps a violation code to a field."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise _remap(exc, field_for_code or {}) from None


def _remap(exc: ValidationError, field_for_code: Mapping[str, str]) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    errors = dict(exc.error_dict)
    kept = []
    for err in errors.pop(NON_FIELD_ERRORS, []):
        target = field_for_code.get(err.code or "")
        if target:
            errors.setdefault(target, []).append(err)
        else:
            kept.append(err)
    if kept:
        errors[NON_FIELD_ERRORS] = kept
    return ValidationError(errors)


def save_or_conflict[T](save: Callable[[], T], *, field: str, message: str) -> T:
    """Run `save`; a unique-constraint race lost to another request becomes a field error."""
    try:
        return save()
    except IntegrityError:
        raise ValidationError({field: [message]}) from None
