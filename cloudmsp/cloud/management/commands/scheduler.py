"""`python manage.py scheduler`: enqueue due syncs and role validations (SPEC 9), beside the task
worker. Run any number: one acts at a time (cloud.services.schedule). Stops on SIGTERM or
Ctrl-C after the tick in progress."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from cloudmsp.cloud.services.schedule import scheduler_tick

logger = logging.getLogger("cloudmsp.scheduler")


class Command(BaseCommand):
    help = "Enqueue due organization syncs and role validations, every --interval seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between ticks (settings.SCHEDULER_TICK_SECONDS by default).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] or float(settings.SCHEDULER_TICK_SECONDS)
        if interval <= 0:
            interval = 1.0
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        if not options["once"]:
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            self.stdout.write(f"Scheduler running: a tick every {interval:g} s (Ctrl-C stops it).")
        while True:
            close_old_connections()
            try:
                tick = scheduler_tick()
            except Exception:  # a database outage: log it, and try again at the next tick
                logger.exception("Scheduler tick failed")
            else:
                if tick.syncs or tick.validations or options["verbosity"] > 1:
                    self.stdout.write(
                        f"{'Acted' if tick.acted else 'Standby (another scheduler acts)'}: "
                        f"{len(tick.syncs)} sync(s), {len(tick.validations)} validation job(s), "
                        f"{tick.pruned} old check(s) pruned."
                    )
            if options["once"] or stop.wait(interval):
                break
