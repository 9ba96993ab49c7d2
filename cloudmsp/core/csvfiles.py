"""CSV in and out (SPEC 10): exports streamed row by row with every cell neutralised
(core.text.csv_cell), and uploaded files read into rows with a clear error per line.

Reading checks, for the whole file: the size (`settings.IMPORT_MAX_BYTES`), UTF-8 (a byte order
mark is accepted), the header (every required column, no unknown or repeated one), the number of
rows (`settings.IMPORT_MAX_ROWS`) and malformed CSV; and for each cell: control or invisible
characters (core.text.validate_plain_text), over-long text, and text a spreadsheet would run as a
formula (`=`, `+`, `-`, `@` first). A cell exported by this portal ("'+44 20 ...": csv_cell's
apostrophe) reads back as the text it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse

from cloudmsp.core.errors import ApplicationError
from cloudmsp.core.text import FORMULA_START, csv_cell, validate_plain_text

#: An export column: its header and how to read its value from a row.
Column = tuple[str, Callable[[Any], object]]
#: Errors reported per file; past this many, the rest are counted only.
MAX_ERRORS = 200
CHUNK_ROWS = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Any], columns: Sequence[Column]) -> Iterator[str]:
    """The header, then one CSV line per row, each cell neutralised. A queryset is read in
    chunks (`iterator`), so memory stays bounded whatever the number of rows."""
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in columns])
    source = rows.iterator(chunk_size=CHUNK_ROWS) if hasattr(rows, "iterator") else rows
    for row in source:
        yield writer.writerow([csv_cell(get(row)) for _, get in columns])


def csv_response(rows: Iterable[Any], columns: Sequence[Column], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (csv_lines)."""
    response = StreamingHttpResponse(csv_lines(rows, columns), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@dataclass(frozen=True)
class LineError:
    """What is wrong on one line of an uploaded file (line 1 is the header)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f", {self.column}" if self.column else ""
        return f"Line {self.line}{where}: {self.message}"


@dataclass
class LineErrors:
    """Errors by line: at most MAX_ERRORS kept, `error_count` counts them all."""

    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0

    def error(self, line: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(LineError(line, column, message))


@dataclass
class CsvTable(LineErrors):
    """An uploaded file's rows as (line, {column: cell}), only the columns it has, and the
    errors found in its cells."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            {"file": [f"Line {line}: the file is not UTF-8 (byte 0x{data[exc.start]:02X}). Save it as “CSV UTF-8”."]}
        ) from None


MAX_COLUMNS = 64  # far more than any import has: a longer header is refused before it is read


def _header(raw: list[str], required: Sequence[str], optional: Sequence[str]) -> list[str]:
    known = (*required, *optional)
    if len(raw) > MAX_COLUMNS:
        raise ValidationError(
            {"file": [f"Line 1 (the header) has {len(raw)} columns. The columns are: {', '.join(known)}."]}
        )
    names = [c.strip().lower() for c in raw]
    problems = []
    unknown = [n for n in names if n not in known]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(n[:40]) for n in unknown[:5])}")
    missing = [n for n in required if n not in names]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    repeated = sorted(n for n, times in Counter(names).items() if times > 1)
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise ValidationError(
            {"file": [f"Line 1 (the header): {'; '.join(problems)}. The columns are: {', '.join(known)}."]}
        )
    return names


def _cell(table: CsvTable, line: int, column: str, value: str, max_length: int) -> str | None:
    """The cell's text, or None (with an error) if it cannot be taken as it is."""
    value = value.strip()  # spaces or a tab before "=" are still a formula to a spreadsheet
    if value[:1] == "'" and value[1:2] in FORMULA_START:
        value = value[1:]  # neutralised by an export: the text after the apostrophe
    elif value[:1] in FORMULA_START:
        table.error(
            line,
            column,
            f"starts with “{value[0]}”, which a spreadsheet runs as a formula; put an "
            "apostrophe (') in front if it is text.",
        )
        return None
    try:
        validate_plain_text(value)
    except ValidationError as exc:
        table.error(line, column, exc.messages[0])
        return None
    if len(value) > max_length:
        table.error(line, column, f"longer than {max_length} characters.")
        return None
    return value


def csv_read(data: bytes, *, required: Sequence[str], optional: Sequence[str] = (), max_length: int = 2000) -> CsvTable:
    """Read an uploaded CSV file. Whole-file problems (size, encoding, header, too many rows,
    malformed CSV) raise ValidationError on `file`; cell problems are the table's `errors`.
    Blank lines are skipped; a row with more or fewer cells than the header is an error."""
    limit: int = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ValidationError({"file": [f"The file is larger than {limit // (1024 * 1024)} MB."]})
    reader = csv.reader(io.StringIO(_decode(data), newline=""), strict=True)
    table = CsvTable()
    try:
        header = next(reader, None)
        if not header:
            raise ValidationError({"file": ["The file is empty: it needs a header line."]})
        table.columns = _header(header, required, optional)
        _read_rows(reader, table, max_length)
    except csv.Error as exc:
        raise ValidationError({"file": [f"Line {reader.line_num}: this is not valid CSV ({exc})."]}) from None
    return table


def _read_rows(reader: Any, table: CsvTable, max_length: int) -> None:
    max_rows: int = settings.IMPORT_MAX_ROWS
    width = len(table.columns)
    for raw in reader:
        line = reader.line_num
        if not any(c.strip() for c in raw):
            continue
        if len(table.rows) >= max_rows:
            raise ValidationError({"file": [f"Line {line}: the file has more than {max_rows} rows."]})
        if len(raw) != width:
            table.error(line, "", f"has {len(raw)} cells where the header has {width}.")
            continue
        cells = {
            name: _cell(table, line, name, value, max_length) for name, value in zip(table.columns, raw, strict=False)
        }
        if all(v is not None for v in cells.values()):
            table.rows.append((line, {k: v for k, v in cells.items() if v is not None}))


#: Rows of each kind an import's diff shows as a sample.
SAMPLE_ROWS = 20


@dataclass
class ImportDiff(LineErrors):
    """What an import would do (a dry run) or did: how many rows create, change or leave as they
    are, a sample of each (`{"line", ...}` dicts), and the errors by line (the file's first)."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    samples: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"created": [], "changed": [], "unchanged": []}
    )
    applied: bool = False
    # A digest of every change (not only the sample): Apply compares it with the dry run's.
    _digest: Any = field(default_factory=hashlib.sha256, repr=False, compare=False)

    @classmethod
    def of(cls, table: CsvTable) -> ImportDiff:
        return cls(errors=list(table.errors), error_count=table.error_count)

    @property
    def fingerprint(self) -> str:
        """The same for two plans only if they make the same changes from the same data."""
        return str(self._digest.hexdigest())

    def add(self, kind: str, row: dict[str, Any]) -> None:
        self._digest.update(json.dumps([kind, row], sort_keys=True, default=str).encode())
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.samples[kind]) < SAMPLE_ROWS:
            self.samples[kind].append(row)

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "samples": self.samples,
            "error_count": self.error_count,
            "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in self.errors],
        }


class ImportRefused(ApplicationError):
    """Applying an import with errors: nothing was written; `diff` says what is wrong."""

    def __init__(self, diff: ImportDiff) -> None:
        super().__init__(f"{diff.error_count} error(s) in the file; nothing was changed.")
        self.diff = diff
