"""`make bench`: the test settings plus Django's admin, enabled here only, so that its changelist
can be measured beside the portal's own lists over the same rows (tests/bench/admin.py)."""

from .test import *  # noqa: F403
from .test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.admin"]
ROOT_URLCONF = "tests.bench.urls"
