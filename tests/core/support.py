"""Capturing what the portal logs, through the production logging configuration."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import dictConfig
from typing import Any

from django.conf import settings
from django.utils.log import configure_logging

from cloudmsp.core.logs import logging_config


class CapturedLogs:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed: a line that is not a JSON object fails the test here."""
        out = []
        for line in self.text.splitlines():
            record = json.loads(line)
            assert isinstance(record, dict), line
            out.append(record)
        return out


@contextmanager
def captured_logs(*, everything: bool = True) -> Iterator[CapturedLogs]:
    """Production's JSON logging at level DEBUG, into a buffer. With `everything`, the loggers
    it normally quiets (Django's, the AWS SDK's, urllib3's) write at DEBUG too, so the buffer
    holds all the log output there is."""
    config = logging_config(json=True, level="DEBUG")
    captured = CapturedLogs()
    dictConfig(config)
    for handler in logging.getLogger().handlers:
        handler.setStream(captured.buffer)  # type: ignore[attr-defined]
    quieted = [*config["loggers"], "django"]
    if everything:
        for name in quieted:
            logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        for name in quieted:
            logging.getLogger(name).setLevel(logging.NOTSET)
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
