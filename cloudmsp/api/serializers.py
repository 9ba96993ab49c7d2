"""Serializer bases of the API: JSON types are taken at their word.

DRF's CharField turns a number into its text (`12345` becomes "12345"); here a text field takes a
JSON string only, so a client that sends the wrong type hears about it (400, "Not a valid
string.") instead of storing something it did not mean.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers


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


class ModelSerializer[M: models.Model](serializers.ModelSerializer[M]):
    """A ModelSerializer whose text fields take JSON strings only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
    }
