"""The demo and local development: embedded defaults, nothing to configure."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-local-only-key-not-for-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, env

# The demo app (seeding, the AWS emulator, `make demo`); production settings do not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "cloudmsp.demo"]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# The demo's web server (`make demo`, PORT=8001 make demo): links in emails point at it.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
# Activation links are written to files under var/mail/ (and shown in the portal).
DEMO_MAIL_DIR = env("DEMO_MAIL_DIR", default=str(BASE_DIR / "var" / "mail"))
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": DEMO_MAIL_DIR},
    }
}
STATIC_ROOT = None  # type: ignore[assignment]  # served by runserver from the apps' static folders
WHITENOISE_USE_FINDERS = True

# The local AWS emulator started by `make demo` (moto on loopback), with its dummy credentials.
EMULATOR_PORT = env.int("EMULATOR_PORT", default=4566)
AWS_ENDPOINT_URL = env("AWS_ENDPOINT_URL", default=f"http://127.0.0.1:{EMULATOR_PORT}")
for _key, _value in (
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
):
    os.environ.setdefault(_key, _value)
AWS_CHECK_WRONG_EXTERNAL_ID = True  # the emulator refuses a wrong external id, as AWS does (demo.emulator)
AWS_NEW_ROLE_WAIT_SECONDS = env.int("AWS_NEW_ROLE_WAIT_SECONDS", default=5)
WEBHOOK_ALLOW_LOOPBACK_HTTP = True  # a receiver on this machine (the README's one-liner)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5.0)
SCHEDULER_TICK_SECONDS = env.float("SCHEDULER_TICK_SECONDS", default=5.0)
