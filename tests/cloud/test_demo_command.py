"""`make demo` as a newcomer runs it: `manage.py demo` in its own process, on a database and ports
of its own, starts the emulator, the task worker, the scheduler and the web server, and stops
them all on SIGTERM. (SQLite only: the demo's embedded default.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the demo runs on its embedded SQLite")
def test_the_demo_starts_the_scheduler_beside_the_worker_and_stops_everything(tmp_path):
    port, emulator_port = _free_port(), _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_", "DATABASE_URL"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEMO_MAIL_DIR": str(tmp_path / "mail"),
        "PORT": str(port),
        "EMULATOR_PORT": str(emulator_port),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    children: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = log.read_text()
            if "Scheduler running" in text and "Starting WSGI development server" in text:
                break
            assert demo.poll() is None, text
            time.sleep(0.5)
        else:
            pytest.fail(f"the demo did not start: {log.read_text()[-2000:]}")
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        children = subprocess.run(
            ["pgrep", "-f", "-P", str(demo.pid), "manage.py"], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) == 3, children  # the worker, the scheduler, the web server
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
    assert "Demo stopped." in log.read_text()
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []  # every child stopped
