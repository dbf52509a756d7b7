"""Project settings: one module, configured by environment variables.

Defaults give a working local install (SQLite file, DEBUG on); production sets
DJANGO_SECRET_KEY, DJANGO_DEBUG=0, DJANGO_ALLOWED_HOSTS and DATABASE_URL. `make run` serves the
demo locally with DJANGO_DEBUG=0 DJANGO_LOCAL=1: plain HTTP on this machine, no debug page.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The product's one name: page titles, the header, e-mails, calendar feeds, PDF metadata, the
# authenticator entry. A deployment may rename it (its own brand); it is never translated.
PRODUCT_NAME = os.environ.get("PRODUCT_NAME", "Registre des violations")

DEBUG = env_bool("DJANGO_DEBUG", True)
# Served over plain HTTP on this machine only: development keys allowed, cookies without the Secure
# flag, no HTTPS redirect or HSTS. Follows DEBUG unless set; `make run` sets it with DEBUG off, so
# the demo never shows a debug page to a visitor (tracebacks go to the server console only).
LOCAL = env_bool("DJANGO_LOCAL", DEBUG)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not LOCAL:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - local default only

# Keys the history hash chain (cases/history.py). Kept outside the database so that write access
# to the database alone cannot rebuild a valid chain; never rotate it (old chains would fail).
HISTORY_CHAIN_KEY = os.environ.get("HISTORY_CHAIN_KEY", "")
if not HISTORY_CHAIN_KEY:
    if not LOCAL:
        raise RuntimeError("HISTORY_CHAIN_KEY must be set when DJANGO_DEBUG is off.")
    HISTORY_CHAIN_KEY = "local-development-history-chain-key"

# Signs the history checkpoints (cases/checkpoints.py): an Ed25519 private key (PEM, PKCS#8) in a
# file outside the database. Locally it is created on first use under var/; in production set the
# path (and create the key with `manage.py checkpoint_history --new-key FILE`). After a rotation,
# list the old public keys (PEM) so old checkpoints still verify.
HISTORY_CHECKPOINT_KEY_FILE = os.environ.get("HISTORY_CHECKPOINT_KEY_FILE", "")
HISTORY_CHECKPOINT_KEY_CREATE = LOCAL and not HISTORY_CHECKPOINT_KEY_FILE
if not HISTORY_CHECKPOINT_KEY_FILE and LOCAL:
    HISTORY_CHECKPOINT_KEY_FILE = str(BASE_DIR / "var" / "history-checkpoint-key.pem")
HISTORY_CHECKPOINT_RETIRED_KEYS = env_list("HISTORY_CHECKPOINT_RETIRED_KEYS")
# An RFC 3161 time-stamping authority time-stamping every checkpoint (empty: none).
HISTORY_TSA_URL = os.environ.get("HISTORY_TSA_URL", "")
HISTORY_TSA_TIMEOUT = float(os.environ.get("HISTORY_TSA_TIMEOUT", "10"))

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: `runserver` serves the static files through whitenoise too, as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "simple_history",
    "cases",
    "accounts",
    "reminders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "api",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight after the security headers: no session, no database for a stylesheet.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The REST API answers JSON, its errors too (the error pages below are HTML).
    "api.middleware.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A control character in the path answers 404, in the query string 400, before any view or query.
    "compliance.errors.RefuseControlCharactersMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Nothing but login and second-factor pages before the second factor, admin included.
    "accounts.middleware.RequireSecondFactorMiddleware",
    # Error pages in the product's layout: 405 answers, and 409 for a conflict no form handled.
    "compliance.errors.ErrorPageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Records the acting user on every history row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out accounts and addresses
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

ROOT_URLCONF = "compliance.urls"
# A refused CSRF token answers the product's 403 page, not Django's bare English one.
CSRF_FAILURE_VIEW = "compliance.errors.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.security",
                "compliance.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "compliance.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{os.environ.get('SQLITE_PATH', BASE_DIR / 'db.sqlite3')}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Evidence files live outside any static path and are only served through a permission-checked view.
MEDIA_ROOT = Path(os.environ.get("EVIDENCE_ROOT", BASE_DIR / "var" / "evidence"))
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(25 * 1024 * 1024)))

# --- Storage: evidence files and dossier exports (Django's storage API) ----------------------------
# The filesystem under EVIDENCE_ROOT by default (one machine); S3-compatible object storage when
# EVIDENCE_S3_BUCKET is set, so that every application server and worker reads and writes the same
# files. Objects stay private: no public ACL, and no URL is ever handed out; downloads are streamed
# through the permission-checked views (cases/views/downloads.py).


def object_storage(environ) -> dict:
    """The S3-compatible storage of the EVIDENCE_S3_* variables, as a STORAGES entry."""
    missing = [name for name in ("EVIDENCE_S3_ACCESS_KEY_ID", "EVIDENCE_S3_SECRET_ACCESS_KEY") if not environ.get(name)]
    if missing:
        raise RuntimeError(f"EVIDENCE_S3_BUCKET is set: {', '.join(missing)} must be set too.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": environ["EVIDENCE_S3_BUCKET"],
            "endpoint_url": environ.get("EVIDENCE_S3_ENDPOINT_URL") or None,
            "region_name": environ.get("EVIDENCE_S3_REGION") or None,
            "access_key": environ["EVIDENCE_S3_ACCESS_KEY_ID"],
            "secret_key": environ["EVIDENCE_S3_SECRET_ACCESS_KEY"],
            "location": environ.get("EVIDENCE_S3_PREFIX", ""),
            "default_acl": None,
            # Stored names are unique (hash + timestamp); never overwrite evidence silently.
            "file_overwrite": False,
            "addressing_style": environ.get("EVIDENCE_S3_ADDRESSING_STYLE", "path"),
            "signature_version": "s3v4",
        },
    }


if os.environ.get("EVIDENCE_S3_BUCKET"):
    _default_storage = object_storage(os.environ)
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Owner-only files: the evidence is personal data.
        "OPTIONS": {"file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    }
# On this machine (`make run`, the tests: LOCAL), whitenoise serves the files of STATICFILES_DIRS as
# they change, without collectstatic.
WHITENOISE_USE_FINDERS = LOCAL
WHITENOISE_AUTOREFRESH = LOCAL
STORAGES = {
    "default": _default_storage,
    # Production (not LOCAL): compressed files with a content hash in their name, served by whitenoise
    # with a one-year immutable cache header (`collectstatic` writes them: `make serve` runs it).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if LOCAL
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Django history: never offer a revert, anywhere.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Accounts and security -------------------------------------------------------------
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", PRODUCT_NAME)
# Lockout after repeated failures per account OR per address, password and second factor alike.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_MINUTES = int(os.environ.get("AXES_COOLOFF_MINUTES", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
# Failures are forgotten when the second factor succeeds (accounts.lockout.forget_failures), not at the
# password step: a correct password must not wipe the count of wrong second-factor codes.
AXES_RESET_ON_SUCCESS = False
# Every name django-axes stores or looks up is capped and free of control characters.
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Production (DJANGO_DEBUG=0, not LOCAL): HTTPS only; `manage.py check --deploy` passes with no warning.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not LOCAL)
# The load balancer's health checks talk plain HTTP to each application server.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = not LOCAL
CSRF_COOKIE_SECURE = not LOCAL
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if LOCAL else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not LOCAL
SECURE_HSTS_PRELOAD = not LOCAL
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- REST API (api/) ------------------------------------------------------------------------------
# Personal tokens (Authorization: Bearer) or the verified session of the documentation page.
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))
# Requests per user, whatever the token (DRF rate syntax: "600/minute", "20000/day").
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "600/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.rest.ReadOnlyTokenPermission",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.rest.ApiUserThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.rest.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.rest.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle_exception",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PRODUCT_NAME} API",
    "DESCRIPTION": "Breach register (GDPR Art. 33/34, NIS2, DORA). Authenticate with a personal token: "
    "`Authorization: Bearer <token>` (created on the API tokens page, after the second factor).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema needs the same credentials as the API (a token, or the verified session of the docs page).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "api.rest.ReadOnlyTokenPermission"],
}

# --- Dossier sealing ---------------------------------------------------------------------
# When a PKCS#12 certificate is configured, every dossier is signed (PAdES) with pyHanko.
DOSSIER_SIGNING_P12 = os.environ.get("DOSSIER_SIGNING_P12", "")
DOSSIER_SIGNING_PASSWORD = os.environ.get("DOSSIER_SIGNING_PASSWORD", "")

# --- E-mail (deadline reminders) -------------------------------------------------------
# The console backend prints e-mails instead of sending them: `make run` needs no SMTP server.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{PRODUCT_NAME} <no-reply@localhost>")
# Absolute links in e-mails (no request to build them from): scheme, host and port, no trailing slash.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The iCalendar feed holds the running deadlines due from this many days ago on (the overdue ones of
# that span included); older overdue deadlines stay on the dashboard, not in calendar clients.
CALENDAR_FEED_PAST_DAYS = int(os.environ.get("CALENDAR_FEED_PAST_DAYS", "30"))

# --- Background jobs (Celery) --------------------------------------------------------------------
# With a broker (CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//),
# dossier exports and scheduled work run on `celery worker` processes. Without one, every task runs
# inline in the process that asks for it, so `make run` and `make test` need nothing else.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # the state of the work is in the database (cases/tasks.py)
# A message is acknowledged only once its task has finished; a worker killed in the middle leaves
# it to be delivered again (immediately with RabbitMQ; after the visibility timeout with Redis).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "breach-register")
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "1800"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_TIMEZONE = TIME_ZONE
# `celery beat` (one per deployment): the same work as the cron lines in the README.
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {"task": "reminders.tasks.send_reminders", "schedule": 300.0},
    "requeue-stale-jobs": {"task": "cases.tasks.requeue_stale_jobs", "schedule": 60.0},
    "deliver-webhooks": {"task": "webhooks.tasks.deliver_webhooks", "schedule": 60.0},
}
# How long a worker's claim on a job lasts without news from it (cases/tasks.py): after that,
# the job is given to another worker. Workers renew their claim while they work.
JOB_LEASE_SECONDS = int(os.environ.get("JOB_LEASE_SECONDS", "120"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every attempt at INFO; the security log keeps what matters.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Signed webhooks (webhooks/delivery.py). Targets: https only, public addresses only, except on this
# machine (LOCAL: a receiver on localhost for the demo and the tests).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", LOCAL)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", LOCAL)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "10"))  # per delivery: 30 s ... about 4 h
WEBHOOK_DISABLE_AFTER = int(os.environ.get("WEBHOOK_DISABLE_AFTER", "15"))  # consecutive failed attempts
WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("WEBHOOK_BACKOFF_SECONDS", "30"))
