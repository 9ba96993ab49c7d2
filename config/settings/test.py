"""The test suite: SQLite by default, PostgreSQL when DATABASE_URL says so."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key")

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS

# The demo app (seeding, the AWS emulator, `make demo`); production settings do not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "cloudmsp.demo"]

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# A fast hasher keeps the suite quick; Argon2 itself is tested explicitly.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tasks run on the real database backend; tests drive the worker explicitly.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_SQLITE_NAME", "")}
else:
    # One test database per run, so parallel runs on one server do not collide.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DB_NAME", f"test_cloudmsp_{os.getpid()}")}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# The rate-limit counters stay in this process (cleared before each test), even when REDIS_URL
# is set: the Redis test builds its own cache (tests/api/test_throttling.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cloudmsp-tests"}}
STATIC_ROOT = None  # type: ignore[assignment]  # served by the finders; collectstatic is for production
WHITENOISE_USE_FINDERS = True
WEBHOOK_ALLOW_LOOPBACK_HTTP = True  # the tests' receivers listen on loopback
WEBHOOK_RETRY_BASE_SECONDS = 0.0  # retries are due at once; the tests run the worker again
