"""`make bench`: the test settings plus Django's admin, enabled here only, so that its changelist
can be measured beside the portal's own lists over the same rows (tests/bench/admin.py)."""

import os

from .test import *  # noqa: F403
from .test import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.admin"]
ROOT_URLCONF = "tests.bench.urls"

# `make load` (tests/bench/load.py): gunicorn and the task workers reach the benchmark's database
# as the application's ordinary role, so that row-level security is in force as in production.
if os.environ.get("BENCH_DB_ROLE"):
    DATABASES["default"].setdefault("OPTIONS", {})["assume_role"] = os.environ["BENCH_DB_ROLE"]
