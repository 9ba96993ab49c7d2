"""Running requests at the same moment, each in a thread with a database connection of its own
(as concurrent requests to the portal are), for the concurrency tests (`threads_db`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(*calls: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """Start the calls together (a barrier) and return their results in order; an exception
    raised in a thread is returned in its place, for the test to report."""
    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            db = connections["default"]
            assert not (db.vendor == "sqlite" and db.is_in_memory_db()), "use the threads_db fixture"
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except BaseException as exc:
            results[i] = exc
        finally:
            connections.close_all()  # so the test database can be flushed and dropped

    threads = [threading.Thread(target=run, args=(i,), name=f"concurrent-{i}") for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    return results
