from __future__ import annotations

import sqlite3

import pytest
from django.test import Client

from cloudmsp.tenancy import rls
from tests.factories import CustomerFactory, CustomerUserFactory, SysadminFactory, TenantFactory, UserFactory
from tests.figures import FIGURES
from tests.rls_setup import install_triggers, running_as_app_role


@pytest.fixture
def tenant():
    return TenantFactory(name="Home MSP")


@pytest.fixture
def admin(tenant):
    return UserFactory(tenant=tenant, email="admin@home.test")


@pytest.fixture
def sysadmin():
    return SysadminFactory(email="root@install.test")


@pytest.fixture
def customer(tenant):
    return CustomerFactory(tenant=tenant, company_name="Acme")


@pytest.fixture
def customer_user(customer):
    return CustomerUserFactory(customer=customer, email="user@acme.test")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for():
    """client_for(user) -> a Django test client signed in as that user."""
    return _client_for


@pytest.fixture
def admin_client(admin) -> Client:
    return _client_for(admin)


@pytest.fixture
def sysadmin_client(sysadmin) -> Client:
    return _client_for(sysadmin)


@pytest.fixture
def api_for():
    """api_for(user) -> a DRF APIClient authenticated as that user (forced, no token)."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks, monkeypatch):
    """run_tasks() -> runs the real task worker over every task enqueued so far, and then what
    the tasks left for after their commit (emails), which a test's transaction would hold back.
    The worker checks its connection between tasks with `close_old_connections()`, which drops
    one inside a transaction, the test's; Django's test client keeps it from requests the same
    way."""
    from django.core.management import call_command
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    return run


@pytest.fixture
def receiver():
    """A real webhook receiver on loopback (tests/notifications/receiver.py)."""
    from tests.notifications.receiver import Receiver

    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """with commit(): ... runs the block's on-commit callbacks (the tasks it enqueued, the
    emails) at its end, as a real commit would; the test's own transaction holds them back."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no requests counted against the rate limits."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def threads_db(transactional_db, tmp_path):
    """Committed data shared by threads that each use a database connection of their own, as
    concurrent requests do (tests/threads.py).

    On PostgreSQL, or SQLite in a file, that is the test database as it is. The suite's SQLite
    test database is otherwise in memory, and connections to a shared-cache in-memory database
    take table locks that SQLite does not wait out ("database table is locked") where a file in
    WAL mode with IMMEDIATE transactions waits its turn, as in production. So for the test, the
    database is copied (schema only: nothing is committed yet) into a file that this thread and
    every new one connect to; the in-memory database stays open behind it and comes back after."""
    from django.db import connection

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    memory = connection.connection
    path = tmp_path / "threads.sqlite3"
    with sqlite3.connect(path) as copy:
        memory.backup(copy)
    copy.close()
    settings_dict = connection.settings_dict  # the dict every new connection is made from
    name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    connection.connection = None
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = name
        connection.connection = memory


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for key, n in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{key}: {n}")


# Row-level security (PostgreSQL): fixtures, factories and assertions are system work, run with
# the bypass; requests run with their user's tenant and tasks with their job's (tests/isolation/
# test_rls.py). The whole suite connects as an ordinary role, so the policies are in force.
rls.set_process_default(rls.SYSTEM)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        install_triggers()
    with running_as_app_role(django_db_blocker):
        yield
