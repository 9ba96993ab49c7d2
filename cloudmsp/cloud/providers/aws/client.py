"""boto3 clients for the portal's own identity and for assumed roles, with timeouts, a credential
cache and retries with backoff on throttling and timeouts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.conf import settings
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from cloudmsp.cloud.providers.aws.errors import THROTTLING_CODES, translate

_CONFIG = Config(
    connect_timeout=5,
    read_timeout=20,
    # Retries are ours (below), so that throttling backs off the same way for every call.
    retries={"max_attempts": 1, "mode": "standard"},
)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    def fresh(self, margin: timedelta = timedelta(minutes=5)) -> bool:
        return self.expiration - margin > datetime.now(UTC)


def client(service: str, credentials: Credentials | None = None, *, endpoint_url: str | None = None) -> Any:
    """A client for the portal's own identity (the standard credential chain) or, with
    `credentials`, for an assumed role; at `endpoint_url` (the demo's emulator) or else at
    settings.AWS_ENDPOINT_URL when that is set."""
    kwargs: dict[str, Any] = {"region_name": settings.AWS_REGION, "config": _CONFIG}
    if endpoint_url or settings.AWS_ENDPOINT_URL:
        kwargs["endpoint_url"] = endpoint_url or settings.AWS_ENDPOINT_URL
    if credentials is not None:
        kwargs.update(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token or None,
        )
    return _session().client(service, **kwargs)


_local = threading.local()
# One loader of the service models for every thread's session: each new session (each thread of
# a bulk validation) would otherwise read and parse the models' JSON again, about 0.1 s of the
# interpreter for STS alone. Loaded models are only read.
_LOADER = botocore.loaders.create_loader()
_LOADER_LOCK = threading.Lock()


def _session() -> boto3.Session:
    # boto3 sessions are not thread-safe: one per thread.
    session = getattr(_local, "session", None)
    if session is None:
        core = botocore.session.get_session()
        core.register_component("data_loader", _LOADER)
        # STS in the settings' region (AWS_REGION), whatever the environment or a config file
        # says: the global endpoint is a single point of failure and slower from elsewhere.
        core.set_config_variable("sts_regional_endpoints", "regional")
        with _LOADER_LOCK:
            session = _local.session = boto3.session.Session(botocore_session=core)
            # Each boto3 session adds its own data directory to the loader's search path: once is enough.
            _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
    return session


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in THROTTLING_CODES
    return isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError, ConnectionClosedError))


# Tests replace this to run without waiting.
sleep: Callable[[float], None] = __import__("time").sleep


def call[R](step: str, fn: Callable[[], R], *, attempts: int | None = None) -> R:
    """Run one AWS call; throttling and timeouts are retried with exponential backoff and
    jitter; any failure left is raised as AwsError naming `step`."""
    retrying = Retrying(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(attempts or settings.AWS_MAX_ATTEMPTS),
        wait=wait_exponential_jitter(multiplier=0.5, max=8),
        sleep=lambda seconds: sleep(seconds),
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        raise translate(step, exc) from exc


class CredentialCache:
    """Assumed-role credentials kept for their lifetime (less a safety margin), per role and
    external id, shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str, str], Credentials] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str]) -> Credentials | None:
        with self._lock:
            creds = self._items.get(key)
            if creds is not None and creds.fresh():
                self.hits += 1
                return creds
            self._items.pop(key, None)
            self.misses += 1
            return None

    def put(self, key: tuple[str, str, str], creds: Credentials) -> None:
        with self._lock:
            self._items[key] = creds

    def forget(self, role_arn: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] == role_arn]:
                del self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


credential_cache = CredentialCache()
