"""Browser fixtures: Playwright's sync API driving the system Chromium against `live_server`.

Playwright's sync API runs an asyncio event loop in the test's thread while it is started, which
makes Django refuse ORM calls from the test ("You cannot call this from an async context"); the
tests only touch the database between browser steps, so the guard is lifted while the browser
runs. The browser is module-scoped so the loop stops before the rest of the suite runs (a running
loop would also break async_to_sync and asyncio.run in later tests).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The AWS emulator of the cloud tests (moto in server mode on loopback), for the browser tests.
from tests.cloud.conftest import aws, moto_endpoint  # noqa: F401

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous for a cold server, short enough that a dialog that never opens fails quickly.
TIMEOUT_MS = 10_000


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _no_chromium() -> None:
    # A missing browser is a broken set-up, not a reason to skip: `make test` installs it. The
    # failure is raised in the test itself, so it is reported as FAILED rather than as an error.
    pytest.fail(
        "The browser tests need Chromium and none was found at "
        f"{', '.join(CHROMIUM_CANDIDATES)} or $CHROMIUM_PATH. Run `make browser` "
        "(or `sudo apt-get install chromium`), or set CHROMIUM_PATH.",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The launched Chromium, or None when there is none (new_page then fails the test)."""
    path = _chromium_path()
    if path is None:
        yield None
        return
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class BrowserErrors(list[str]):
    """JavaScript errors, console errors and CSP violations seen by any page of the test."""

    #: While axe-core runs: it injects <style> elements of its own, which the page's CSP refuses
    #: ("Applying inline style violates ..."); those refusals are axe's, not the portal's.
    axe_running = False

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        def on_console(msg) -> None:  # type: ignore[no-untyped-def]
            # Chromium reports CSP violations ("Refused to ...") as console errors.
            if msg.type == "error":
                if self.axe_running and "inline style" in msg.text:
                    return
                self.append(f"console error at {msg.location.get('url')}: {msg.text}")

        page.browser_errors = self

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.append(f"uncaught exception: {exc}"))


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
def new_page(browser, browser_errors, request) -> Iterator[Callable[[], object]]:  # type: ignore[no-untyped-def]
    """new_page(width=1440, height=900) -> a page in a fresh browser context (its own cookies:
    one person each)."""
    contexts = []
    pages = []

    def make(width: int = 1440, height: int = 900):  # type: ignore[no-untyped-def]
        if browser is None:
            _no_chromium()
        # Reduced motion: Pico then switches its transitions off, so axe-core never measures a
        # colour half-way through one (an intermittent contrast finding on an opening menu).
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US", reduced_motion="reduce"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        browser_errors.watch(page)
        pages.append(page)
        return page

    yield make
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        for i, page in enumerate(pages):
            shot = Path(f"/tmp/e2e-failure-{name}-{i}.png")
            try:
                page.screenshot(path=str(shot), full_page=True)
            except Exception:
                pass
            else:
                print(f"screenshot of page {i} at the failure: {shot}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):  # type: ignore[no-untyped-def]
    return new_page()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    # Lets the fixtures above see whether the test body failed (for the failure screenshots).
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    """A run with browser tests keeps its SQLite test database in a file instead of in memory.

    The live server answers each request in a thread of its own and the task worker polls from
    another, each with its own connection, as in production. Connections to a shared-cache
    in-memory database take table locks that SQLite does not wait out ("database table is
    locked"); a file in WAL mode with IMMEDIATE transactions waits its turn. Runs after the
    deselection by -m/-k (trylast), so `-m "not e2e"` keeps the fast in-memory database;
    TEST_SQLITE_NAME and PostgreSQL are left as they are.
    """
    if not any(item.get_closest_marker("e2e") for item in items):
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database["TEST"].get("NAME"):
        database["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / f"cloudmsp-e2e-{os.getpid()}.sqlite3")


@pytest.fixture(autouse=True)
def _links_to_the_live_server(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    """Activation links (in emails and shown in the portal) are built on PORTAL_BASE_URL: here,
    the server the browser talks to."""
    settings.PORTAL_BASE_URL = live_server.url


@pytest.fixture
def task_worker(live_server, transactional_db) -> Iterator[object]:
    """django-tasks-db's real worker, polling the live server's database from a background thread
    with a connection of its own while the test runs; stopped (and checked for crashes) at the end."""
    from django.db import connection, connections
    from django_tasks_db.management.commands.db_worker import Worker

    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db()), (
        "the task worker needs a database it can reach from another thread (see pytest_collection_modifyitems)"
    )
    worker = Worker(
        queue_names=["default"],
        interval=0.2,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="e2e",
        excluded_queue_names=[],
    )
    crashed: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as exc:
            crashed.append(exc)
        finally:
            connections.close_all()  # so the test database can be flushed and dropped

    thread = threading.Thread(target=run, name="e2e-task-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.running = False
        thread.join(timeout=30)
    assert not thread.is_alive(), "the task worker did not stop"
    assert not crashed, "the task worker crashed:\n" + "".join(traceback.format_exception(crashed[0]))
