"""`make load`: the portal under load from many clients at once (SPEC section 7).

On PostgreSQL (DATABASE_URL, or the local server's `test` database): the benchmark's dataset
(a tenant of 100,000 accounts and one of 10,000 beside it), gunicorn with 4 workers serving it
as the application's database role (row-level security in force), and wrk driving it over
loopback with 32 connections, each request carrying one of 32 signed-in sessions: 11 on the
customers list, 11 on the accounts list and 10 on an account search, all at once, for
`--seconds` (60). Printed per page: requests per second, p50, p99 and errors (non-200 answers
and socket errors), against p99 < 250 ms and no errors.

Then the same load again while two task workers sync 10 organizations of 10,000 accounts each
(of a third tenant, from the emulator in its own process, tests/bench/emulator.py), and how much
each page slowed down. Results also go to load-results-postgresql.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.bench.emulator import Emulator, free_port, wait_for_port
from tests.bench.run import ROOT, Report, machine_reference

CLIENTS = {"customers list": 11, "accounts list": 11, "account search": 10}
P99_TARGET_MS = 250
ORGANIZATIONS = 10
MEMBERS = 10_000
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/test"

# One of the sessions per request, in turn; non-200 answers counted (wrk counts only >= 400).
WRK_SCRIPT = """
sessions = {}
turn = 0
unexpected = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) for i, cookie in ipairs(args) do sessions[i] = cookie end end
function request()
  turn = turn + 1
  return wrk.format("GET", nil, {["Cookie"] = sessions[(turn % #sessions) + 1]})
end
function response(status, headers, body) if status ~= 200 then unexpected = unexpected + 1 end end
function done(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("unexpected") end
  io.write(string.format('{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "max_ms": %f, '
    .. '"socket_errors": %d, "unexpected_status": %d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, bad))
end
"""


def _environment(**extra: str) -> dict[str, str]:
    """The environment of gunicorn and the task workers: the benchmark's database, reached as
    the application's role (config/settings/bench.py)."""
    from django.db import connection

    from tests.rls_setup import APP_ROLE

    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_URL": url,
        "BENCH_DB_ROLE": APP_ROLE,
        **extra,
    }


def _sessions(user: Any, count: int) -> list[str]:
    """`count` signed-in sessions of `user`, as Cookie header values."""
    from django.conf import settings
    from django.test import Client

    cookies = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return cookies


def _check_pages(base: str, pages: dict[str, str], cookie: str) -> None:
    """Each page answers 200 to a signed-in session before the load starts (a redirect to the
    sign-in page would be fast and prove nothing)."""
    for name, path in pages.items():
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read().decode()
            redirected = answer.geturl() != base + path  # urllib follows a redirect to the sign-in page
            if answer.status != 200 or redirected or "Sign out" not in body:
                raise RuntimeError(f"{name} ({path}) answered {answer.status} without the page")


def _drive(
    base: str, pages: dict[str, str], cookies: list[str], seconds: int, clients: dict[str, int] = CLIENTS
) -> dict[str, dict[str, float]]:
    """One wrk per page, all at once (`clients` connections each); their figures by page."""
    handle, script_name = tempfile.mkstemp(suffix=".lua")
    os.close(handle)
    script = Path(script_name)
    script.write_text(WRK_SCRIPT)
    try:
        runs = {
            name: subprocess.Popen(
                [
                    "wrk",
                    "-t1",
                    f"-c{clients[name]}",
                    f"-d{seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    base + path,
                    "--",
                    *cookies,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for name, path in pages.items()
        }
        results = {}
        for name, run in runs.items():
            out, _ = run.communicate(timeout=seconds + 60)
            results[name] = json.loads(out.strip().splitlines()[-1])
        return results
    finally:
        script.unlink(missing_ok=True)


def _alone(report: Report, base: str, pages: dict[str, str], cookies: list[str], seconds: int) -> None:
    """Each page with one client and nothing else running: the time one request takes, from
    which the figures under load follow (32 requests always in flight, so a request waits for
    those before it: p50 is about 32 / the requests per second)."""
    for name, path in pages.items():
        result = _drive(base, {name: path}, cookies, seconds, clients={name: 1})[name]
        report.add(f"one client: {name}: p50", round(result["p50_ms"], 1), "ms")
        report.add(
            f"one client: {name}: requests per second", round(result["requests"] / result["seconds"], 1), "req/s"
        )


def _report_phase(report: Report, phase: str, results: dict[str, dict[str, float]]) -> None:
    total = sum(r["requests"] for r in results.values())
    seconds = max(r["seconds"] for r in results.values())
    report.add(f"{phase}: requests per second (all pages)", round(total / seconds, 1), "req/s")
    for name, r in results.items():
        errors = int(r["socket_errors"] + r["unexpected_status"])
        report.add(
            f"{phase}: {name} ({CLIENTS[name]} clients): requests per second",
            round(r["requests"] / r["seconds"], 1),
            "req/s",
        )
        report.add(f"{phase}: {name}: p50", round(r["p50_ms"], 1), "ms")
        # No answer at all within the run is no latency figure: it fails.
        answered = r["requests"] > 0
        p99_ok = answered and r["p99_ms"] < P99_TARGET_MS
        report.add(f"{phase}: {name}: p99", round(r["p99_ms"], 1), "ms", f"< {P99_TARGET_MS} ms", p99_ok)
        report.add(f"{phase}: {name}: errors", errors, "", "= 0", errors == 0)


def _start_syncs(server: Emulator) -> tuple[Any, list[int]]:
    """A tenant with ORGANIZATIONS connected management accounts, and a sync job of each."""
    from cloudmsp.cloud.services.accounts import account_connect, account_create
    from cloudmsp.cloud.services.sync import sync_start
    from cloudmsp.demo import emulator
    from cloudmsp.tenancy import rls
    from cloudmsp.tenancy.models import Tenant
    from cloudmsp.tenancy.roles import Role
    from cloudmsp.users.models import User
    from tests.bench.emulator import management_id

    server.configure()
    tenant = Tenant.objects.create(name="Sync MSP")
    admin = User.unscoped.create(email="admin@sync.test", role=Role.TENANT_ADMIN, tenant=tenant, password="!")
    jobs = []
    with rls.tenant_scope(tenant):
        for index in range(ORGANIZATIONS):
            payer = account_create(actor=admin, category="msp", account_id=management_id(index), name=f"Sync {index}")
            arn = emulator.ensure_role(
                server.url, payer.account_id, emulator.PORTAL_ROLE, payer.external_id, management=True
            )
            check = account_connect(actor=admin, account=payer, role_arn=arn)
            assert check.ok, check.message
            payer.refresh_from_db()
            jobs.append(sync_start(actor=admin, account=payer).pk)
    return tenant, jobs


def _sync_progress(tenant: Any, jobs: list[int]) -> tuple[int, int]:
    """(sync jobs finished, member accounts listed so far by the jobs) of the sync tenant."""
    from django.db.models import Sum

    from cloudmsp.cloud.models import Job
    from cloudmsp.tenancy import rls

    with rls.tenant_scope(tenant):
        mine = Job.objects.for_tenant(tenant).filter(pk__in=jobs)
        finished = mine.filter(finished_at__isnull=False).count()
        listed = mine.aggregate(listed=Sum("done"))["listed"] or 0
    return finished, listed


def _loaded_phase(
    report: Report, base: str, pages: dict[str, str], cookies: list[str], seconds: int, *, members: int
) -> Any:
    """The second run: the load while two task workers sync the organizations of the emulator."""
    workers: list[subprocess.Popen[bytes]] = []
    emulator = Emulator(ORGANIZATIONS, members)
    try:
        env = _environment(**emulator.environment())
        manage = [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-reload", "--interval", "0.5"]
        workers = [subprocess.Popen(manage, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
        tenant, jobs = _start_syncs(emulator)
        results = _drive(base, pages, cookies, seconds)
        finished, listed = _sync_progress(tenant, jobs)
        report.add(
            f"while syncing: sync jobs finished during the {seconds} s (2 task workers)",
            f"{finished} / {ORGANIZATIONS}",
        )
        report.add(
            "while syncing: accounts the syncs listed meanwhile", listed, "", f"of {ORGANIZATIONS * (members + 1)}"
        )
        return results
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=60)
        emulator.stop()


def _compare(report: Report, quiet: dict[str, dict[str, float]], busy: dict[str, dict[str, float]]) -> None:
    for name in CLIENTS:
        for figure in ("p50_ms", "p99_ms"):
            if quiet[name][figure] > 0:
                ratio = busy[name][figure] / quiet[name][figure]
                report.add(f"while syncing / quiet: {name}: {figure[:3]}", round(ratio, 2), "x")


def _dataset(report: Report, *, quick: bool) -> Any:
    """The benchmark's dataset, built (and its statistics gathered) as the superuser that owns
    the tables: ANALYZE as the application's role would skip them."""
    from tests.bench.data import build
    from tests.bench.scenarios import _planner_statistics

    started = time.monotonic()
    sizes = {"managements": 2, "members_per_management": 2_000, "customers": 500, "audit_events": 2_000}
    data = build(**(sizes if quick else {}))
    other = 2_000 if quick else 10_000
    build(name="Other MSP", managements=1, members_per_management=other, customers=200, audit_events=1_000)
    _planner_statistics()
    report.add("dataset: cloud accounts in the measured tenant", data.accounts)
    report.add("dataset: build time", round(time.monotonic() - started, 1), "s")
    return data


def _serve(data: Any, seconds: int, report: Report, *, quick: bool) -> None:
    from django.urls import reverse

    pages = {
        "customers list": reverse("customers:list") + "?per_page=50",
        "accounts list": reverse("cloud:accounts") + "?per_page=50",
        "account search": reverse("cloud:accounts") + "?per_page=50&q=member-1-00",
    }
    cookies = _sessions(data.admin, sum(CLIENTS.values()))
    port = free_port()
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=_environment(),
        cwd=ROOT,
    )
    try:
        wait_for_port(port, gunicorn, "gunicorn", 60)
        base = f"http://127.0.0.1:{port}"
        _check_pages(base, pages, cookies[0])
        _drive(base, pages, cookies, 5)  # warm-up: every worker's connection and caches
        _alone(report, base, pages, cookies, min(seconds, 10))
        quiet = _drive(base, pages, cookies, seconds)
        _report_phase(report, "load", quiet)
        busy = _loaded_phase(report, base, pages, cookies, seconds, members=1_000 if quick else MEMBERS)
        _report_phase(report, "while syncing", busy)
        _compare(report, quiet, busy)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=60)


def main(argv: list[str]) -> int:
    seconds = next((int(arg[10:]) for arg in argv if arg.startswith("--seconds=")), 60)
    # --quick: a dataset of 4,000 accounts and organizations of 1,000 (to try the load test out).
    quick = "--quick" in argv
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        print("make load runs on PostgreSQL: set DATABASE_URL to a PostgreSQL database (or leave it unset)")
        return 2
    if shutil.which("wrk") is None:
        print("make load needs wrk (scripts/ensure-wrk installs it)")
        return 2
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from cloudmsp.tenancy import rls
    from tests.rls_setup import install_triggers, running_as_app_role

    rls.set_process_default(rls.SYSTEM)
    print(f"cloudmsp load test on {connection.vendor}: 32 clients, {seconds} s per run", flush=True)
    state = setup_databases(verbosity=0, interactive=False, keepdb=False)
    install_triggers()
    report = Report(database=connection.vendor)
    machine_reference(report)
    try:
        data = _dataset(report, quick=quick)
        with running_as_app_role():
            _serve(data, seconds, report, quick=quick)
    finally:
        teardown_databases(state, verbosity=0)
    report.write(f"load-results-{report.database}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
