"""`make bench`: build the large dataset on the database DATABASE_URL names (SQLite by
default), measure the figures of SPEC section 7 and print one table (figure, value, target,
pass/fail), also written as JSON to bench-results-<database>.json."""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("lists", "bulk", "rules", "discovery", "validation", "security", "csv")


@dataclass
class Row:
    figure: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    database: str
    rows: list[Row] = field(default_factory=list)

    def add(
        self, figure: str, value: Any, unit: str = "", target: str = "", ok: bool | None = None, **extra: Any
    ) -> Row:
        row = Row(figure, value, unit, target, ok, extra)
        self.rows.append(row)
        mark = "" if ok is None else ("pass" if ok else "FAIL")
        print(f"  {figure:<62} {_fmt(value):>10} {unit:<6} {target:<18} {mark}", flush=True)
        return row

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.ok is False]

    def write(self, name: str) -> None:
        """The rows as JSON in ROOT/`name`, then a summary of the figures below their targets."""
        out = ROOT / name
        out.write_text(json.dumps({"database": self.database, "rows": [asdict(r) for r in self.rows]}, indent=2))
        print(f"\n{len(self.rows)} figures, {len(self.failed)} below target; written to {out.name}")
        for row in self.failed:
            print(f"  below target: {row.figure} = {_fmt(row.value)} {row.unit} (target {row.target})")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def machine_reference(report: Report) -> None:
    """A pure-Python figure of the machine itself, so that runs on different days (or machines)
    can be compared: the same sandbox has been three times slower on one day than on another."""
    start = time.perf_counter()
    sum(range(10**7))
    report.add("machine: sum(range(10**7)) in this interpreter", round(time.perf_counter() - start, 3), "s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def measure_together(
    fns: dict[str, Callable[[], Any]], *, repeat: int, warmup: int = 2
) -> dict[str, tuple[float, float, list[float]]]:
    """measure() of several functions, their runs interleaved (a, b, c, a, b, c, ...): a noisy
    moment of the machine falls on any of them alike, not on whichever ran then, so their
    figures can be compared with each other."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: (statistics.median(s), percentile(s, 0.95), s) for name, s in samples.items()}


def measure(fn: Callable[[], Any], *, repeat: int, warmup: int = 2) -> tuple[float, float, list[float]]:
    """(p50 ms, p95 ms, samples) of `repeat` runs of `fn`, after `warmup` runs."""
    return measure_together({"": fn}, repeat=repeat, warmup=warmup)[""]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    # --scale=1m (make bench SCALE=1m): the lists at 10,000, 100,000 and 1,000,000 accounts.
    scale = next((arg[8:] for arg in argv if arg.startswith("--scale=")), "")
    if scale not in ("", "1m"):
        print(f"unknown scale {scale!r}: the one offered is 1m")
        return 2
    # --only=lists,bulk,rules,discovery,validation,security,csv runs some of the scenarios (on the full dataset).
    only = {part for arg in argv if arg.startswith("--only=") for part in arg[7:].split(",") if part}
    unknown = only - set(SCENARIOS)
    if unknown:
        print(f"unknown scenario(s): {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")  # the test settings + the admin
    if not os.environ.get("DATABASE_URL"):
        # A file, as in production, not the in-memory database of the tests.
        (ROOT / "var").mkdir(exist_ok=True)
        os.environ.setdefault("TEST_SQLITE_NAME", str(ROOT / "var" / "bench.sqlite3"))
        Path(os.environ["TEST_SQLITE_NAME"]).unlink(missing_ok=True)
    import django

    django.setup()
    from cloudmsp.tenancy import rls

    rls.set_process_default(rls.SYSTEM)  # as manage.py (and so the task worker) has it
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from tests.bench import scenarios
    from tests.rls_setup import install_triggers

    print(f"cloudmsp benchmarks on {connection.vendor}{' (quick)' if quick else ''}", flush=True)
    state = setup_databases(verbosity=0, interactive=False, keepdb=False)
    install_triggers()
    report = Report(database=connection.vendor)
    machine_reference(report)
    started = time.monotonic()
    try:
        scenarios.run_all(report, quick=quick, only=only or set(SCENARIOS), scale=scale)
    finally:
        teardown_databases(state, verbosity=0)
    total = time.monotonic() - started
    report.add(
        "total benchmark time", round(total, 1), "s", "< 600 s" if not scale else "", total < 600 if not scale else None
    )
    suffix = f"-{scale}" if scale else ("-partial" if only else "")
    report.write(f"bench-results-{report.database}{suffix}.json")
    return 0
