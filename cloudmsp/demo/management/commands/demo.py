"""`make demo`: migrate, start the AWS emulator, seed, then run the task worker and the web server
until Ctrl-C (or SIGTERM), which stops everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cloudmsp.demo import emulator
from cloudmsp.demo.seed import seed_demo, seed_demo_aws


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Run the demo portal: migrate, seed, start the task worker and web server."

    def handle(self, *args: Any, **options: Any) -> None:
        port = int(os.environ.get("PORT", "8000"))
        if not _port_free(port):
            raise CommandError(
                f"Port {port} on 127.0.0.1 is in use (another demo still running?). "
                f"Stop it or run: PORT={port + 1} make demo"
            )
        endpoint, server = self._emulator()
        call_command("migrate", interactive=False, verbosity=0)
        logins = seed_demo()
        aws_summary = seed_demo_aws(endpoint)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        env = {**os.environ, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
        children = [
            subprocess.Popen([*manage, "db_worker", "--no-reload", "--interval", "0.5"], env=env),
            subprocess.Popen([*manage, "scheduler"], env=env),
            subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env),
        ]
        self._welcome(port, aws_summary, logins)
        stopping = _run_until_stopped(children, server)
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            raise CommandError("A demo process stopped unexpectedly; see its output above.")
        self.stdout.write("Demo stopped.")

    def _emulator(self) -> tuple[str, Any]:
        """The emulator's endpoint, and the server started here (None when one was running)."""
        emulator_port = int(getattr(settings, "EMULATOR_PORT", 4566))
        endpoint = f"http://127.0.0.1:{emulator_port}"
        if endpoint != settings.AWS_ENDPOINT_URL:
            raise CommandError(f"The demo expects AWS_ENDPOINT_URL={endpoint} (it is {settings.AWS_ENDPOINT_URL!r}).")
        if not emulator.port_in_use("127.0.0.1", emulator_port):
            return endpoint, emulator.start("127.0.0.1", emulator_port)
        if not emulator.is_emulator(endpoint):
            raise CommandError(
                f"Port {emulator_port} is in use by something that is not the AWS emulator. "
                f"Stop it or run: EMULATOR_PORT={emulator_port + 1} make demo"
            )
        self.stdout.write(f"Reusing the AWS emulator already running at {endpoint}.")
        return endpoint, None

    def _welcome(self, port: int, aws_summary: str, logins: Any) -> None:
        mail_dir = getattr(settings, "DEMO_MAIL_DIR", "the configured mailer")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"cloudmsp demo is running at http://127.0.0.1:{port}/",
                    aws_summary,
                    "Sign in with:",
                    *(f"  {login.role:22} {login.email:22} password: {login.password}" for login in logins),
                    f"Activation, reset and notification emails are written to {mail_dir}/",
                    "The scheduler checks every role each minute (Health); to see one break, run:",
                    "  .venv/bin/python manage.py demo_delete_role <account id from Health>",
                    "To add an account to the organization (for the assignment rules), run:",
                    "  .venv/bin/python manage.py demo_add_account shop-prod --ou Root/Production",
                    "Press Ctrl-C to stop everything.",
                    "",
                ]
            )
        )


def _run_until_stopped(children: list[subprocess.Popen[bytes]], server: Any) -> bool:
    """Wait for Ctrl-C, SIGTERM or a child's exit, then stop everything started. True when
    stopped by a signal."""
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        if server is not None:
            server.stop()
    return stopping
