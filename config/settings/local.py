"""The demo and local development: embedded defaults, nothing to configure."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-local-only-key-not-for-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
from .base import BASE_DIR, env

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
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
