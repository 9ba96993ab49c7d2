"""Serializer bases of the API: JSON types are taken at their word.

DRF's CharField turns a number into its text (`12345` becomes "12345"); here a text field takes a
JSON string only, so a client that sends the wrong type hears about it (400, "Not a valid
string.") instead of storing something it did not mean.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from cloudmsp.core.concurrency import parse_version, version_of


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """DRF's IntegerField, but a number sent as text must be in ASCII digits: Python's `int()`
    also reads other scripts' digits (FULLWIDTH DIGIT ONE and TWO are 12 to it), which would let
    look-alikes through."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not data.isascii():
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer[M: models.Model](serializers.ModelSerializer[M]):
    """A ModelSerializer whose text fields take JSON strings only, and integers ASCII digits."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.IntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
    }


# The one error format of the API (cloudmsp/api/errors.py), for the schema.
ErrorSerializer = inline_serializer(
    "Error",
    {
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


@extend_schema_field(
    {
        "type": "string",
        "description": "An opaque token of the state you read. Send it back unchanged when you "
        "update the object: if someone else changed it since, the update is refused with 409 "
        "instead of overwriting their change. Without it, the update applies to whatever is there.",
    }
)
class VersionField(serializers.Field):  # type: ignore[type-arg]
    """`version`: the object's `updated_at` as a token (see cloudmsp.core.concurrency)."""

    default_error_messages = {"invalid": "Send back the `version` you read, unchanged."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="updated_at", required=False, **kwargs)

    def to_representation(self, value: Any) -> str:
        return version_of(value)

    def to_internal_value(self, data: Any) -> Any:
        held = parse_version(data)
        if held is None:
            self.fail("invalid")
        return held
