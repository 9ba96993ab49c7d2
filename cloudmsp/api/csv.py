"""CSV in the API (SPEC 10): lists that export as CSV (`?format=csv` or `Accept: text/csv`),
streamed over every row the filter, search and sort select, and imports whose body is a CSV
file (`Content-Type: text/csv`). Errors stay JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, override

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import parsers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from cloudmsp.api.parsers import RequestTooLarge
from cloudmsp.core.csvfiles import Column, csv_response

FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"], description="`csv`: every matching row as a CSV file."
)


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    @override
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return b""  # the views stream their CSV themselves; errors are answered in JSON


class CsvParser(parsers.BaseParser):
    """A CSV body, as bytes (decoding and checking it is core.csvfiles' job), at most
    `settings.IMPORT_MAX_BYTES` (413 above)."""

    media_type = "text/csv"

    @override
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit: int = settings.IMPORT_MAX_BYTES
        raw: bytes = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The file is larger than {limit // (1024 * 1024)} MB.")
        return raw


class CsvExportMixin:
    """For a list view: `?format=csv` (or `Accept: text/csv`) streams every row of
    `list_queryset()` as `csv_columns`, not a page of them. Error answers stay JSON."""

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer, CsvRenderer]
    csv_columns: ClassVar[Sequence[Column]] = ()
    csv_filename: ClassVar[str] = "export.csv"

    def export_columns(self, request: Request) -> Sequence[Column]:  # noqa: ARG002 (a hook)
        """The columns the caller may export (a hook: some are not every role's)."""
        return self.csv_columns

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if request.accepted_renderer.format == "csv":
            columns = self.export_columns(request)
            return csv_response(self.list_queryset(), columns, filename=self.csv_filename)  # type: ignore[attr-defined]
        return super().list(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Only the list streams CSV (above); every other answer of the view (errors, and other
        # actions asked with ?format=csv, such as a create) is JSON.
        if isinstance(response, Response):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
