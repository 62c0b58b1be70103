"""Settings shared by every environment. Values come from the environment (see config.env)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from config.env import Env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
env = Env()

SECRET_KEY = env.str(
    "SECRET_KEY", "insecure-dev-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
DEBUG = env.bool("DEBUG", False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

# Key for personal data at rest (ID and phone numbers). Defaults derive from SECRET_KEY for
# development; production requires its own (see production.py).
PII_KEY = env.str("PII_KEY", SECRET_KEY)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "core",
    "petitions",
    "intake",
    "clocks",
    "routing",
    "supervision",
    "closure",
    "appeals",
    "reports",
    "campaigns",
    "outreach",
    "demo",
]

# Per-request CPU by phase (core.profiling, issue 21): off unless PROFILE_REQUESTS=true; when off
# both profiling middleware remove themselves at start-up (no cost per request).
PROFILE_REQUESTS = env.bool("PROFILE_REQUESTS", False)
PROFILE_REQUESTS_FILE = env.str(
    "PROFILE_REQUESTS_FILE", str(VAR_DIR / "profile" / "requests.jsonl")
)
# Celery closes a worker's database connections after every task unless this is set (its Django
# fixup); a registration's notification task then paid a new PostgreSQL backend each time (the
# load run at 100,000: 96 backends in 54 s, ~8.6 ms of worker CPU per API call). Reuse them for
# 100 tasks; a connection broken meanwhile fails one task, which the outbox retries.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", 100)

MIDDLEWARE = [
    # First: times the whole request (core.profiling; removed when PROFILE_REQUESTS is off).
    "core.profiling.RequestProfileMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep their long caching): no-store on everything else.
    "core.middleware.NoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must come after the others (only the profiler's probe is inside it): it turns a
    # locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
    # Innermost: the view's share of the request (core.profiling; removed when off).
    "core.profiling.ViewProfileMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
                "clocks.context_processors.calendar_notice",
            ],
        },
    },
    # The hot list fragments (rows, breakdown tables, FastSelect), rendered once per page by
    # core.jinja2.render_fragment and printed by the Django page templates (issue 21).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "core.jinja2.environment"},
    },
]

# PostgreSQL everywhere, one engine for every query. Without DATABASE_URL the local settings
# (`make run`, `manage.py` in the checkout) start the embedded server (config/embedded_pg.py);
# production and tests require the URL.
DATABASES: dict[str, dict[str, object]] = {"default": env.database("DATABASE_URL") or {}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A streaming replica (issue 21, core.dbrouter): with DATABASE_REPLICA_URL set, the reports,
# ledger exports, the supervisor dashboard and the campaign summaries read there inside an explicit
# use_replica() scope; every write and every read of a write path stays on the primary. Tests see
# the alias as a mirror of default (one database). Without the URL: no router, all on default.
_replica_db = env.database("DATABASE_REPLICA_URL")
DATABASE_ROUTERS: list[str] = []
if _replica_db:
    _replica_db["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica_db
    DATABASE_ROUTERS = ["core.dbrouter.ReplicaRouter"]

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 8 idle hours (a working day) and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
# Database sessions read through the cache, the sliding expiry of an unchanged session written at
# most once a minute (not a read and a transaction per request; issue 10).
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy on every response (django.middleware.csp): scripts and styles only from
# our own static files, or inline with the per-request nonce ({{ csp_nonce }}); no plugins, no
# framing, forms post only to us. Templates carry no inline script, style or event handler.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# API tokens expire after this many idle minutes (like sessions: a working day by default).
TOKEN_IDLE_MINUTES = env.int("TOKEN_IDLE_MINUTES", 8 * 60)
# JSON request bodies nesting deeper than this are refused with 400 (core.parsers.SafeJSONParser).
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", 32)
# The OpenAPI schema and Swagger UI need a login unless this is set (never in production).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", False)

# Lockout after repeated failed logins (django-axes), per username.
AXES_ENABLED = env.bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

# Broker and cache: Redis when REDIS_URL is set; otherwise an embedded default that needs no server
# (Kombu's filesystem transport and a file cache shared by web, worker and beat).
REDIS_URL = env.redis("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # Seconds after which a task taken by a worker that died (acks late) is given to another
        # worker; longer than the longest task, since a live one past it is run twice.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # Publishing happens after commit in the request: with the broker down, give up at once
        # (the outbox row stays pending for beat) instead of retrying while the user waits.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
        "socket_connect_timeout": 1,
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    _broker_dir = VAR_DIR / "broker"
    # Kombu's filesystem transport expects its folders to exist.
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # Kombu's filesystem transport with atomic publishing (config/broker.py).
    from config.broker import SCHEME as _FS_SCHEME
    from config.broker import register as _register_fs_transport

    _register_fs_transport()
    CELERY_BROKER_URL = f"{_FS_SCHEME}://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The exchange tables of the control (pidbox) exchange: under var/, not the working folder.
        "control_folder": str(_broker_dir / "control"),
        # A worker at its prefetch limit (acks late, prefetch 1) waits one polling interval before
        # taking the next message: Kombu's default of 1 s caps the worker at ~2 tasks a second,
        # which a demo seed's notification deliveries fill for minutes.
        "polling_interval": 0.1,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The deadline sweep (clocks.tasks.run_deadline_checks): clocks claimed and committed per batch,
# and an optional pause after each batch (milliseconds, 0 = none) so a very large sweep leaves the
# database room for the desks. The worker-kill fault test uses both to stop a worker mid-sweep.
SWEEP_BATCH_SIZE = env.int("SWEEP_BATCH_SIZE", 20_000)
SWEEP_BATCH_PAUSE_MS = env.int("SWEEP_BATCH_PAUSE_MS", 0)
# Task modules autodiscovery (``<app>.tasks``) does not find.
CELERY_IMPORTS = ("outreach.tasks_visits",)
# Queues by kind (issue 21), so a large export never delays the deadline sweep: ``sweep`` (deadline
# sweep, review windows, campaign progress, kept counters' upkeep), ``notifications`` (outbox delivery, digests,
# messages, reminders), ``exports`` (ledger exports, report counters); the rest on ``celery``.
# Declared, so a worker started without -Q consumes all four (make run, the tests); deployments
# run one worker per queue (docker-compose.yml). tests/test_celery_queues.py checks every task.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name)
    for name in ("sweep", "notifications", "exports", "celery")
)
CELERY_TASK_ROUTES = {
    "clocks.tasks.run_deadline_checks": {"queue": "sweep"},
    "appeals.tasks.finalise_lapsed_windows": {"queue": "sweep"},
    "campaigns.tasks.sweep_matter_progress": {"queue": "sweep"},
    "supervision.tasks.compact_kept_counters": {"queue": "sweep"},
    "clocks.tasks.deliver_pending_notifications": {"queue": "notifications"},
    "clocks.tasks.send_daily_digests": {"queue": "notifications"},
    "outreach.tasks.send_messages": {"queue": "notifications"},
    "outreach.tasks.queue_review_window_messages": {"queue": "notifications"},
    "outreach.tasks_visits.remind_appointments": {"queue": "notifications"},
    "reports.tasks.export_ledger": {"queue": "exports"},
    "reports.tasks.refresh_report_counters": {"queue": "exports"},
    "core.tasks.write_marker": {"queue": "celery"},
}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "deadline-checks": {"task": "clocks.tasks.run_deadline_checks", "schedule": 300.0},
    # Kept triage/dashboard counters: fold the delta rows, refresh what the sweep left pending.
    "kept-counters": {"task": "supervision.tasks.compact_kept_counters", "schedule": 300.0},
    "deliver-notifications": {
        "task": "clocks.tasks.deliver_pending_notifications",
        "schedule": 60.0,
    },
    # A review window that ran out unused makes the matter final (appeals.tasks).
    "review-windows": {"task": "appeals.tasks.finalise_lapsed_windows", "schedule": 300.0},
    # Daily report counters of the recent days, rebuilt up to yesterday (reports.counters).
    "report-counters": {"task": "reports.tasks.refresh_report_counters", "schedule": 21600.0},
    # Campaign matters' progress reports: due soon, overdue, escalated (campaigns.tasks).
    "campaign-progress": {"task": "campaigns.tasks.sweep_matter_progress", "schedule": 3600.0},
    # Messages to petitioners: queued ones not sent yet (kicked after commit; this is the net).
    "send-messages": {"task": "outreach.tasks.send_messages", "schedule": 60.0},
    # 约访: the officers reminded of an appointment within the next day (outreach.tasks_visits).
    "appointment-reminders": {
        "task": "outreach.tasks_visits.remind_appointments",
        "schedule": 900.0,
    },
    # Messages to petitioners: the review window's last week (once per window), in the morning.
    "review-window-messages": {
        "task": "outreach.tasks.queue_review_window_messages",
        "schedule": crontab(hour=9, minute=0),
    },
}

# Text messages to petitioners (outreach.sms): the gateway class, the HTTP gateway's address and
# token (production), the file backend's folder (make run, tests), and the sender's batch size,
# attempts (backoff 1, 2, 4 ... minutes) and claim lease (seconds a claimed batch is held before
# another worker may take it again: longer than a batch's sends take).
SMS_BACKEND = env.str("SMS_BACKEND", "outreach.sms.filebased.FileBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_TIMEOUT = env.int("SMS_GATEWAY_TIMEOUT", 10)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", str(VAR_DIR / "sms"))
# The site's public address, before the paths of links sent by message (the evaluation page).
SMS_LINK_BASE_URL = env.str("SMS_LINK_BASE_URL", "http://localhost:8000")
SMS_BATCH_SIZE = env.int("SMS_BATCH_SIZE", 50)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", 6)
SMS_CLAIM_LEASE_SECONDS = env.int("SMS_CLAIM_LEASE_SECONDS", 300)

_email_backend = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
_email_options: dict[str, object] = {}
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": env.str("EMAIL_HOST", "localhost"),
        "port": env.int("EMAIL_PORT", 25),
        "username": env.str("EMAIL_HOST_USER", ""),
        "password": env.str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env.bool("EMAIL_USE_TLS", False),
        "timeout": 10,
    }
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "noreply@petition.local")

REST_FRAMEWORK = {
    # Token first: an unauthenticated call answers 401 with WWW-Authenticate: Token (DRF takes
    # the header from the first class; SessionAuthentication has none and would make it 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Joint petition reception center API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Intranet deployments have no internet: Swagger UI assets come from the sidecar package.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Login for the schema and docs (core.api_views checks API_DOCS_PUBLIC per request).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_PUBLIC": False,
    # Separate request components: minLength 1 on strings that refuse blanks, where sent.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.postprocess_input_bounds",
    ],
    # One name per choice set shared between apps (else drf_spectacular.W001 fails check --deploy).
    "ENUM_NAME_OVERRIDES": {
        "RatingChoiceEnum": "closure.models.Rating",
        "AttachmentKindEnum": "petitions.models.AttachmentKind",
        "RequestChannelEnum": "appeals.models.RequestChannel",
        # campaigns and outreach: their kinds and states have names of their own
        "CampaignKindEnum": "campaigns.models.CampaignKind",
        "CampaignStateEnum": "campaigns.models.CampaignState",
        "CandidateDecisionEnum": "campaigns.models.CandidateDecision",
        "MatterOutcomeEnum": "campaigns.models.MatterOutcome",
        "MatterWarningLevelEnum": "campaigns.models.WarningLevel",
        "ObjectionStateEnum": "campaigns.models.ObjectionState",
        "ScoreSectionEnum": "campaigns.models.ScoreSection",
        "DeadlineWarningLevelEnum": "clocks.models.WarningLevel",
        "CaseStateEnum": "petitions.states.CaseState",
        "TourStateEnum": "outreach.models.TourState",
        "OutreachKindEnum": "outreach.models.OutreachKind",
        "OutreachStateEnum": "outreach.models.OutreachState",
        "PlaceKindEnum": "outreach.models.PlaceKind",
        "AidStateEnum": "outreach.models.AidState",
        "AidCircumstanceEnum": "outreach.models.AidCircumstance",
        "MessageKindEnum": "outreach.models.MessageKind",
        "MessageStateEnum": "outreach.models.MessageState",
    },
}

# Closure (closure/): days after the delivery of a written reply in which the petitioner may
# evaluate it (after that the case counts as not evaluated and the one-time link expires), and
# the public evaluation page's attempts per client address per window.
EVALUATION_WINDOW_DAYS = env.int("EVALUATION_WINDOW_DAYS", 30)
# Appeals (appeals/): the organ one level above the province, to which a re-review of a review the
# province decided is forwarded (Art 36; one deployment serves one province).
APPEALS_ORGAN_ABOVE = env.str("APPEALS_ORGAN_ABOVE", "中央政法委")
EVALUATION_RATE_LIMIT = env.int("EVALUATION_RATE_LIMIT", 20)  # failed lookups per client
EVALUATION_LINK_ATTEMPT_LIMIT = env.int("EVALUATION_LINK_ATTEMPT_LIMIT", 30)  # requests per link
EVALUATION_RATE_WINDOW_SECONDS = env.int("EVALUATION_RATE_WINDOW_SECONDS", 600)
# The client address behind our reverse proxy: the META key of the header it sets (e.g.
# HTTP_X_FORWARDED_FOR) and how many proxies of ours append to it; empty = REMOTE_ADDR.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", "")
NUM_PROXIES = env.int("NUM_PROXIES", 1)
REPORTS_CACHE_SECONDS = env.int("REPORTS_CACHE_SECONDS", 300)

# Every handler masks full ID and mobile numbers (core.logging): Django's own loggers (request
# errors, runserver's request lines, mail to admins) are routed to the masked console, as are
# gunicorn's access and error logs (configured here once Django starts in the worker) and Celery.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_numbers": {"()": "core.logging.MaskPersonalNumbers"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_personal_numbers"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "celery": {"handlers": [], "propagate": True},
    },
}
# A Celery worker keeps this configuration instead of replacing the root logger's handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Lockout is per account, not per IP: a whole reception hall shares one NAT address on the
# intranet, and locking it would stop every desk at once.
SILENCED_SYSTEM_CHECKS = [
    "axes.W006",
]
