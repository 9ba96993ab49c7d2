"""The portal's URLs and, for the benchmark only, Django's admin (tests/bench/admin.py)."""

from django.urls import path

from config.urls import urlpatterns as portal
from tests.bench.admin import site

urlpatterns = [*portal, path("bench-admin/", site.urls)]
