"""Production: every secret and address from the environment; secure cookies and HSTS."""

from django.core.exceptions import ImproperlyConfigured

from cloudmsp.core.logs import logging_config

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, STORAGES, env

DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Links in emails are built on it alone (never on the request's Host): required, and HTTPS like
# everything else in production.
PORTAL_BASE_URL = env("PORTAL_BASE_URL")
if not PORTAL_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(f"PORTAL_BASE_URL must be the portal's https:// address, not {PORTAL_BASE_URL!r}.")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind that proxy the peer address is the proxy's: the sign-in lockout and the rate limits
# count per client address from the entry the proxy appends to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": TRUSTED_PROXY_COUNT}
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The cache (Redis when REDIS_URL is set) and the rate limits come from base.py.
# One JSON object per line, with the request id, tenant and user.
LOGGING = logging_config(json=True, level=env("LOG_LEVEL", default="INFO"))
