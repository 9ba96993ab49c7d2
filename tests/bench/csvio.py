"""The CSV figures of SPEC 10 (issue 14): importing a 100,000-line mapping file (dry run, then
apply: time and statements) and exporting 100,000 accounts streamed (time, and peak memory
traced while the whole export is read, against that of a tenth of it: bounded, not growing with
the rows)."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from django.db import connection
from django.test import Client

from tests.bench.data import Dataset
from tests.bench.run import Report


def _client(data: Dataset) -> Client:
    client = Client()
    client.force_login(data.admin)
    return client


def _mapping_file(data: Dataset, lines: int, customers: int = 0) -> tuple[bytes, int]:
    """Every member account (up to `lines`) moved to another customer (of the first `customers`,
    or all): each line a change. Returns the file and how many customers it moves accounts to."""
    from cloudmsp.cloud.models import CloudAccount, Kind
    from cloudmsp.customers.models import Customer

    names = list(Customer.objects.for_tenant(data.tenant).order_by("id").values_list("company_name", flat=True))
    names = names[:customers] if customers else names[1:] + names[:1]
    accounts = (
        CloudAccount.objects.for_tenant(data.tenant).filter(kind=Kind.MEMBER).order_by("id").values_list("account_id")
    )
    rows = [f"{a},{names[i % len(names)]}\n" for i, (a,) in enumerate(accounts[:lines])]
    return ("account_id,customer\n" + "".join(rows)).encode(), min(len(rows), len(names))


class _Statements:
    """Counts the statements sent (CaptureQueriesContext keeps only the last 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _post(client: Client, body: bytes, dry_run: str) -> tuple[float, int, dict[str, Any]]:
    counter = _Statements()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        response = client.generic(
            "POST", f"/api/v1/imports/assignments/?dry_run={dry_run}", body, content_type="text/csv"
        )
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return elapsed, counter.count, response.json()


def csv_import(report: Report, data: Dataset, *, lines: int) -> None:
    client = _client(data)
    body, targets = _mapping_file(data, lines)
    count = body.count(b"\n") - 1

    def post(dry_run: str) -> tuple[float, int, dict[str, Any]]:
        return _post(client, body, dry_run)

    seconds, statements, diff = post("true")
    report.add(
        f"import {count} mapping lines: dry run",
        round(seconds, 2),
        "s",
        "",  # SPEC 10 names no target: the time is printed
        None if diff["error_count"] == 0 else False,
        statements=statements,
    )
    # The session and its user, then two reads (the file's accounts, the tenant's customers).
    report.add(f"import {count}: dry run statements", statements, "", "<= 4 (fixed)", statements <= 4)
    seconds, statements, diff = post("false")
    report.add(
        f"import {count} mapping lines: apply ({targets} customers)",
        round(seconds, 2),
        "s",
        "",
        None if diff["applied"] and diff["changed"] + diff["created"] == count else False,
        statements=statements,
    )
    # The session and its user, two reads, the savepoint, the lock, the end of the open history
    # intervals, then three statements per customer moved to, and the release: none per line.
    bound = 8 + 3 * targets
    report.add(f"import {count}: apply statements", statements, "", f"<= {bound}", statements <= bound)
    # The same lines moved to 50 customers: the statements follow the customers, not the lines.
    few_body, few = _mapping_file(data, lines, customers=50)
    seconds, statements, diff = _post(client, few_body, "false")
    report.add(
        f"import {count} mapping lines: apply ({few} customers)",
        round(seconds, 2),
        "s",
        "",
        None if diff["applied"] else False,
        statements=statements,
    )
    report.add(
        f"import {count} to {few} customers: statements", statements, "", f"<= {8 + 3 * few}", statements <= 8 + 3 * few
    )


def _read_export(client: Client, path: str, *, traced: bool) -> tuple[float, int, int, int]:
    """(seconds, bytes, rows, peak traced bytes) of reading the whole streamed export."""
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.streaming, path
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    peak = 0
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, size, lines - 1, peak


def csv_export(report: Report, data: Dataset) -> None:
    client = _client(data)
    everything = "/api/v1/cloud-accounts/?format=csv"
    tenth = f"/api/v1/cloud-accounts/?format=csv&parent={data.largest_management.pk}"
    seconds, size, rows, _ = _read_export(client, everything, traced=False)
    report.add(f"export {rows} accounts as CSV, streamed", round(seconds, 2), "s")
    report.add(f"export {rows}: size of the file", round(size / 2**20, 1), "MB")
    _, _, rows, peak = _read_export(client, everything, traced=True)
    _, _, tenth_rows, tenth_peak = _read_export(client, tenth, traced=True)
    report.add(f"export {rows}: peak memory (traced)", round(peak / 2**20, 1), "MB", "< 64 MB", peak < 64 * 2**20)
    report.add(
        f"export: peak memory {rows} vs {tenth_rows} rows",
        f"{peak / 2**20:.1f} vs {tenth_peak / 2**20:.1f} MB",
        "",
        "< 2x (bounded)",
        peak < 2 * tenth_peak,
    )
