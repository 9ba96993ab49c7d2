"""Settings shared by every environment. Everything that varies is read from the environment."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file beside manage.py is optional; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "cloudmsp.core",
    "cloudmsp.tenancy",
    "cloudmsp.users",
    "cloudmsp.customers",
    "cloudmsp.cloud",
    "cloudmsp.notifications",
    "cloudmsp.tenants",
    "cloudmsp.audit",
    "cloudmsp.api",
    "cloudmsp.web",
]

MIDDLEWARE = [
    # First: every query of a request runs with its user's row-level security scope (PostgreSQL).
    "cloudmsp.tenancy.middleware.RowLevelSecurityMiddleware",
    "cloudmsp.core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cloudmsp.users.middleware.SessionTimeoutMiddleware",
    "cloudmsp.users.middleware.TwoFactorEnrolmentMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cloudmsp.core.middleware.BadInputMiddleware",
    "cloudmsp.web.middleware.ApplicationErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "cloudmsp.web.context_processors.navigation",
            ],
        },
    },
]

# SQLite (WAL, IMMEDIATE transactions) unless DATABASE_URL names another database.
DEFAULT_SQLITE = f"sqlite:///{BASE_DIR / 'var' / 'cloudmsp.sqlite3'}"
DATABASES = {"default": env.db_url("DATABASE_URL", default=DEFAULT_SQLITE)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "users:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "users:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Activation and password-reset links expire after this many seconds (default 24 h).
PASSWORD_RESET_TIMEOUT = env.int("ACTIVATION_TIMEOUT", default=24 * 3600)

# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins an email, and on its
# own an IP address, is refused for LOGIN_COOLOFF_TIME seconds after the last failure.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_TIME = env.int("LOGIN_COOLOFF_TIME", default=15 * 60)
# Proxies in front of the portal that append to X-Forwarded-For (0: the peer address is the client).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_COOLOFF_TIME)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The lock lasts LOGIN_COOLOFF_TIME from the failure that set it, so Retry-After is exact.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "cloudmsp.users.lockout.username_from"
AXES_CLIENT_IP_CALLABLE = "cloudmsp.users.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "cloudmsp.users.lockout.lockout_response"
# No table of successful sign-ins: it would keep each one's path, and signing in through an
# activation link puts the link's token in the path (the access log line scrubs it).
AXES_DISABLE_ACCESS_LOG = True
# Sessions end after SESSION_IDLE_TIMEOUT seconds without a request, and SESSION_ABSOLUTE_TIMEOUT
# seconds after sign-in whatever happens (cloudmsp.users.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# Two-factor authentication (TOTP): the issuer authenticator apps show beside the account.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="cloudmsp")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Outgoing email (Django 6.1 mailers). SMTP by default; the demo writes files instead.
MAILERS = {
    "default": {
        "BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=25),
            "username": env("EMAIL_HOST_USER", default=""),
            "password": env("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=False),
        },
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="cloudmsp <no-reply@cloudmsp.invalid>")
# The portal's address: every link in an email (activation, password reset) is built on it, never
# on a request's Host header, which the client chooses. Required in production.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Django 6 built-in Content Security Policy. htmx and our own scripts are served from 'self'
# and inline scripts carry the per-request nonce.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cloudmsp.users.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "cloudmsp.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # No filter backends: search, sort and filters are the selectors' (the pages use the same
    # ones), read by ScopedViewSet.list_params and each view's filter serializer.
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "cloudmsp.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "cloudmsp.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's, with the body's size (API_MAX_BODY_BYTES) and nesting depth capped (cloudmsp/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["cloudmsp.api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    # Per-address rate limits find the client as the sign-in lockout does: X-Forwarded-For is
    # read only behind trusted proxies (0: REMOTE_ADDR, so a client cannot pick its address).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# The largest JSON body the API reads (a bulk change of 100,000 account ids is about 1 MB).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=4 * 1024 * 1024)
# CSV imports (SPEC 10): the largest file read, API body or page upload (a 100,000-line mapping
# file is about 3 MB; 100,000 customers with every column about 25 MB), and its most rows.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=32 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
SPECTACULAR_SETTINGS = {
    "TITLE": "cloudmsp API",
    "DESCRIPTION": "Tenants, users, customers, cloud accounts and audit events of a cloudmsp portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Cloud accounts and jobs both have a `kind`; name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "CloudAccountKindEnum": "cloudmsp.cloud.models.Kind",
        "JobKindEnum": "cloudmsp.cloud.models.JobKind",
        # A role's health, on the account and as a check's previous health.
        "HealthEnum": "cloudmsp.cloud.models.Health",
        # How an ownership interval began and ended.
        "OwnershipCauseEnum": "cloudmsp.cloud.models.OwnershipCause",
        # An account's AWS state, as a field and as the filter of "all matching" bulk actions.
        "AwsStateEnum": "cloudmsp.cloud.models.AwsState",
    },
}

# The cache holds the rate-limit counters: Redis when REDIS_URL is set, so that every web
# process counts together; otherwise this process's memory (one process: the demo, the tests).
if env("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_URL"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cloudmsp"}}

# Rate limits, "<requests>/<s|min|hour|day>", shared by the pages and the API (cloudmsp/api/
# throttling.py). The actions are counted per tenant, sign-in and password-reset requests per
# email and per client address; RATE_LIMIT_<SCOPE> overrides one, and an empty value turns it off.
_RATE_LIMIT_DEFAULTS = {
    "sync": "20/min",
    "onboard": "60/min",
    "bulk": "30/min",
    "remove_role": "30/min",
    "validate": "60/min",
    "webhook_test": "30/min",
    "login_email": "10/min",
    "login_ip": "30/min",
    "reset_email": "5/hour",
    "reset_ip": "20/hour",
}
RATE_LIMITS: dict[str, str | None] = {
    scope: env(f"RATE_LIMIT_{scope.upper()}", default=rate) or None for scope, rate in _RATE_LIMIT_DEFAULTS.items()
}

# Logs go to stderr with the request id, tenant and user on every line (cloudmsp/core/logs.py);
# LOG_FORMAT=json writes one JSON object per line, as production does.
from cloudmsp.core.logs import logging_config  # noqa: E402

LOGGING = logging_config(json=env("LOG_FORMAT", default="plain") == "json", level=env("LOG_LEVEL", default="INFO"))

# django-axes first: it refuses locked-out credentials before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "cloudmsp.users.auth.EmailBackend"]
# Emails are stored lower-cased and unique case-insensitively (a functional unique constraint,
# which this check cannot see).
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

# AWS. The portal uses the standard boto3 credential chain; AWS_ENDPOINT_URL points every client
# at a local emulator (the demo and the tests), and is unset in production.
AWS_ENDPOINT_URL = env("AWS_ENDPOINT_URL", default="")
AWS_REGION = env("AWS_DEFAULT_REGION", default="us-east-1")
# The portal's own AWS account (trusted by every role); read from GetCallerIdentity if unset.
PORTAL_AWS_ACCOUNT_ID = env("PORTAL_AWS_ACCOUNT_ID", default="")
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=5)
# A new role takes seconds to become assumable: validation after creating one retries this long.
AWS_NEW_ROLE_WAIT_SECONDS = env.int("AWS_NEW_ROLE_WAIT_SECONDS", default=60)
# On real AWS, also check that AssumeRole with a wrong external id is refused. Emulators do not
# enforce external ids, so the check is off when AWS_ENDPOINT_URL is set.
AWS_CHECK_WRONG_EXTERNAL_ID = env.bool("AWS_CHECK_WRONG_EXTERNAL_ID", default=not AWS_ENDPOINT_URL)
# How many accounts are validated or onboarded at once.
AWS_CONCURRENCY = env.int("AWS_CONCURRENCY", default=10)

# Webhooks (SPEC 9): https only; the demo and the tests also allow plain http to loopback.
WEBHOOK_ALLOW_LOOPBACK_HTTP = False
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
# A failed delivery is retried after 1, 2, 4 ... minutes (at most 6 h apart) for 24 hours.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=60.0)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
# How often `manage.py scheduler` looks for due work.
SCHEDULER_TICK_SECONDS = env.float("SCHEDULER_TICK_SECONDS", default=30.0)
