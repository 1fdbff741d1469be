"""Settings for the Joint Justice case system.

Everything that differs between deployments comes from the environment (django-environ). Malformed values fail
loudly at start-up. Safe defaults exist only for the local run (``JJP_LOCAL_RUN=1`` or ``DJANGO_DEBUG=1``).

The values that law or the pilot may change live together in ``JJP_RULES`` at the end, each with its source.
"""

import datetime
import logging
import os
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

LOCAL_RUN = env.bool("JJP_LOCAL_RUN", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=False)

if LOCAL_RUN or DEBUG:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="insecure-local-only-key-do-not-use-in-production-0123456789"
    )
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the web app, used for links in emails and feeds.
SITE_URL = env.str("JJP_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rules.apps.AutodiscoverRulesConfig",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_celery_beat",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "cases",
    "charging",
    "victims",
    "governance",
    # Delivery: above the domain apps (docs/architecture.md, "The house").
    "workspace",
    "api",
    "alerts",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "jjp.middleware.NoStoreMiddleware",  # outside the rest: sees every answer as it leaves (docs/security.md)
    "jjp.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jjp.auth_views.SecondFactorMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into the lockout page
]

ROOT_URLCONF = "jjp.urls"

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
                "jjp.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "jjp.wsgi.application"

# PostgreSQL is the only engine, everywhere (constraints, partial indexes, row locks and triggers).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/jjp"),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise environ.ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Short, index-bound statements: PostgreSQL's JIT compilation costs 60-75 ms on the larger dashboard statements at
# national scale and saves nothing on them (measured with bench/web.py), so it is off for this application's
# sessions.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# The test database is named after the database in use (test_jjp for jjp), so two checkouts or two people on one
# server, each with their own DATABASE_URL, never share (and drop) one test database.
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
    "JJP_TEST_DATABASE_NAME", default=f"test_{DATABASES['default'].get('NAME') or 'jjp'}"
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "cases.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username before any password check
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("JJP_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # GOV.UK Frontend and the MOJ patterns, installed by `npm ci` (bin/setup) and never copied into the repo.
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    ("moj", BASE_DIR / "node_modules" / "@ministryofjustice" / "frontend" / "moj"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: EMAIL_URL as django-environ reads it (smtp://host:port, consolemail://).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("JJP_EMAIL_TIMEOUT", default=30)  # a hung mail server must not hold a worker
DEFAULT_FROM_EMAIL = env.str("JJP_FROM_EMAIL", default="Joint Justice <no-reply@jjp.invalid>")

# The cache backs API rate limits across gunicorn workers: Redis when configured, else per-process memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.str("CACHE_REDIS_URL")}
        if env.str("CACHE_REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Sessions: keys must be plain alphanumerics (a crafted cookie with a NUL must not reach the database).
SESSION_ENGINE = "jjp.sessions"

# Celery. The broker is Redis (REDIS_URL) unless CELERY_BROKER_URL says otherwise; the local run uses kombu's
# filesystem transport (no server) with its folders under JJP_BROKER_DIR.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# With the broker down, publishing fails at once (no reconnect loop inside a web request); the outboxes in the
# database and their pumps send later. Workers still reconnect by themselves.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"max_retries": 0}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("JJP_BROKER_DIR", default=str(BASE_DIR / ".local" / "broker")))
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "jjp.beat:LockedDatabaseScheduler"  # one beat at a time (jjp/beat.py)
# Declared here; django-celery-beat copies them into its tables where an administrator can see and pause them.
# The sweep is a frequent idempotent sweeper rather than a wall-clock crontab (beat has daylight-saving issues).
CELERY_BEAT_SCHEDULE = {
    "sweep-clocks": {"task": "cases.tasks.sweep_clocks", "schedule": crontab(minute="*/15")},
    # Alerts: detection reads new crossings; delivery sends the outbox; the digest task checks the working day
    # and 07:00 London itself, so a misfire at a clock change cannot send early or twice.
    "detect-alerts": {"task": "cases.alert_tasks.detect_alerts", "schedule": crontab(minute="*/5")},
    # Every overdue clock for escalation, not only those that became escalable within the lookback.
    "detect-alerts-full": {
        "task": "cases.alert_tasks.detect_alerts",
        "schedule": crontab(minute=2),
        "kwargs": {"full": True},
    },
    "deliver-alerts": {"task": "cases.alert_tasks.deliver_alerts", "schedule": crontab(minute="*")},
    "send-daily-digests": {
        "task": "cases.alert_tasks.send_daily_digests",
        "schedule": crontab(minute="*/15"),
    },
    "evaluate-high-harm-flags": {
        "task": "governance.tasks.evaluate_high_harm_flags",
        "schedule": crontab(hour=2, minute=30),
    },
    "webhooks-pump": {"task": "cases.tasks.webhooks_pump", "schedule": crontab(minute="*")},
    "expire-orders": {"task": "victims.tasks.expire_orders", "schedule": crontab(minute=5)},
    # The joint performance dashboard reads stored monthly figures (governance/metrics.py): the current month is
    # recomputed every 15 minutes, closed months once.
    "refresh-performance-figures": {
        "task": "governance.tasks.refresh_performance_figures",
        "schedule": crontab(minute="7-59/15"),
    },
    "notify-cps-of-police-outcomes": {
        "task": "governance.tasks.notify_cps_of_police_outcomes",
        "schedule": crontab(minute="*/15"),
    },
}

# REST API for force systems (see jjp/api_urls.py and each app's api/ package).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_THROTTLE_RATES": {"jjp_read": "600/min", "jjp_write": "120/min", "jjp_bulk": "10/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Joint Justice case system API",
    "DESCRIPTION": "For police force records systems: push cases and referrals, pull CPS decisions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ActionStatusEnum": "charging.models.ActionStatus",
        "ReferralKindEnum": "charging.models.ChargingReferralKind",
        "OrderKindEnum": "victims.models.ProtectiveOrderKind",
        "TriageReasonEnum": "charging.models.TriageReason",
        "QualifyingReportKindEnum": "api.serializers.QUALIFYING_REPORT_KINDS",
        "DecisionInputOutcomeEnum": "charging.api.serializers.FINAL_OUTCOMES",
        "DapoRequirementKindEnum": "victims.models.DapoRequirementKind",
    },
}

# Deadline alerts (see alerts/engine.py). Policy values; the digest goes out at 07:00 London time on working days.
JJP_ALERTS = {
    "digest_hour": env.int("JJP_DIGEST_HOUR", default=7),
    "escalate_after_working_days": env.int("JJP_ESCALATE_AFTER_WORKING_DAYS", default=2),
    "max_attempts": env.int("JJP_ALERT_MAX_ATTEMPTS", default=8),
    "claim_timeout_seconds": env.int("JJP_ALERT_CLAIM_TIMEOUT_SECONDS", default=300),
    "detect_lookback_days": env.int("JJP_ALERT_LOOKBACK_DAYS", default=7),
}

# Victims: a withdrawal of support within this many days of the report counts as early (DA Commissioner: nearly
# half of victims withdraw within five days).
JJP_VICTIMS = {"early_withdrawal_days": env.int("JJP_EARLY_WITHDRAWAL_DAYS", default=5)}

# Audit retention (POLICY VALUE, UNCONFIRMED with the data controllers): the audit tables (timeline, clock
# crossings, row history, read log, address log) keep rows this many days; `manage.py purge_audit_history`, run by
# an operator, deletes older ones. 2,555 days = 7 years: six full years after the end of a typical case (a limitation
# period for civil claims arising from it) plus one, and longer than the review cycle of a domestic abuse case file.
# DPA 2018 s.62 asks that logs be kept as long as needed to verify lawfulness; set it from the forces' and CPS's
# retention schedules. docs/security.md, "The audit trail".
JJP_AUDIT_RETENTION_DAYS = env.int("JJP_AUDIT_RETENTION_DAYS", default=2555)

# DA JJP strategic priority 4.3: the shared high-harm repeat offender definition (docs/governance.md).
JJP_HHRO = {
    "window_months": env.int("JJP_HHRO_WINDOW_MONTHS", default=12),
    "min_cases": env.int("JJP_HHRO_MIN_CASES", default=2),
    "min_victims": env.int("JJP_HHRO_MIN_VICTIMS", default=2),
    "risk_levels": env.list("JJP_HHRO_RISK_LEVELS", default=["high"]),
    "min_breaches": env.int("JJP_HHRO_MIN_BREACHES", default=1),
    "required": env.list("JJP_HHRO_REQUIRED", default=["repeat"]),
    "min_criteria": env.int("JJP_HHRO_MIN_CRITERIA", default=2),
}


class _RefusalsWithoutTraceback:
    """A 4xx is the service refusing a request, not a fault: Django logs it once (``django.request``,
    ``django.security``: "Forbidden: /path") and that one line is enough, so its traceback is dropped. Records
    for a 5xx, and records with no status, keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_without_traceback": {"()": _RefusalsWithoutTraceback}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["refusals_without_traceback"]},
    },
    "root": {"handlers": ["console"], "level": env.str("JJP_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --------------------------------------------------------------------------------------------------------------
# Security (docs/security.md). Production defaults everywhere but the local run (JJP_LOCAL_RUN / DJANGO_DEBUG).
# --------------------------------------------------------------------------------------------------------------
_SECURE_DEFAULT = not (LOCAL_RUN or DEBUG)

# Sign-in: a second factor (TOTP, django-otp) where the deployment requires it. Off by default only in the local
# run, so the demo logins work with a password. A user who has set up an authenticator app is always asked for it.
JJP_REQUIRE_2FA = env.bool("JJP_REQUIRE_2FA", default=_SECURE_DEFAULT)
OTP_TOTP_ISSUER = env.str("JJP_OTP_ISSUER", default="Joint Justice")

# Lockout (django-axes): JJP_LOCKOUT_FAILURES failed sign-ins (password or code) for a username lock that username,
# from every address, until JJP_LOCKOUT_MINUTES pass without another attempt. Keyed on the username alone so that
# guessing one officer's password from many addresses is stopped too, and not on the address: police and CPS
# offices reach the service through a few shared addresses, and locking an address would lock out a whole office
# (axes.W006 is silenced for that reason; docs/security.md). An administrator can lift a lockout early (admin:
# Axes access attempts, or `manage.py axes_reset_username <name>`).
AXES_ENABLED = env.bool("JJP_AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("JJP_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("JJP_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # "no ip_address in the lockout parameters": deliberate, see above
# Failures are forgotten when the whole sign-in (password and code) succeeds: jjp/auth_views.py.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "jjp.auth_views.lockout_response"  # the lockout page, 429
AXES_VERBOSE = False
# The sign-in records are read-only in the admin (cases/signin_admin.py registers them instead of django-axes), and
# every failed sign-in is kept in the failure log, also after a lockout is lifted. Past this many rows for one
# username (a flood), django-axes drops the oldest.
AXES_ENABLE_ADMIN = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = env.int("JJP_SIGNIN_FAILURE_LOG_PER_USER", default=100_000)

# API bearer tokens have no username to lock, so failed token checks are throttled per client address instead
# (api/throttling.py): past JJP_API_AUTH_FAILURES failures within the window, every bearer request from the
# address gets 429 with Retry-After, before its token is looked up, until the oldest failure leaves the window.
JJP_API_AUTH_FAILURES = env.int("JJP_API_AUTH_FAILURES", default=10)
JJP_API_AUTH_FAILURE_WINDOW_SECONDS = env.int("JJP_API_AUTH_FAILURE_WINDOW_SECONDS", default=600)

# Bad input to the API (api/parsers.py, api/base.py): a JSON body nested deeper than this is refused
# with 400 before it is decoded (the decoder would recurse until RecursionError); a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE (Django's default, 2.5 MB) is refused with 413.
JJP_API_MAX_JSON_DEPTH = env.int("JJP_API_MAX_JSON_DEPTH", default=64)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("JJP_MAX_BODY_BYTES", default=2_621_440)

# Sessions end after JJP_SESSION_IDLE_MINUTES without a request (each request pushes the expiry on), and when the
# browser closes.
SESSION_COOKIE_AGE = env.int("JJP_SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=_SECURE_DEFAULT)
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=_SECURE_DEFAULT)

# HTTPS. Behind a TLS-terminating proxy, set DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO=https (only if
# the proxy always sets or strips that header), so that Django knows the request came over HTTPS.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_SECURE_DEFAULT)
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    _header, _sep, _value = _proxy_ssl_header.partition("=")
    if not (_sep and _header.startswith("HTTP_") and _value):
        raise environ.ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO=https"
        )
    SECURE_PROXY_SSL_HEADER = (_header, _value)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if _SECURE_DEFAULT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The preload flag in the header; the domain is on browsers' preload lists only once someone submits it.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content Security Policy (django-csp 4): no inline script or style anywhere; pages load only their own files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --------------------------------------------------------------------------------------------------------------
# Law and policy. Every value the law or the pilot may change, in one place, each with its source.
# See docs/rules.md. Read through cases.clocks.active_rules(); never copy these into module constants.
# --------------------------------------------------------------------------------------------------------------
JJP_RULES = {
    # DA Joint Justice Plan 2024, strategic priority 1.2: investigation in 21 days or less.
    "investigation_days": env.int("JJP_INVESTIGATION_DAYS", default=21),
    # Same: a charging decision within 10 working days.
    "charging_decision_working_days": env.int("JJP_CHARGING_DECISION_WORKING_DAYS", default=10),
    # Same: charge within 7 days of the decision.
    "charge_days": env.int("JJP_CHARGE_DAYS", default=7),
    # Joint local principle 9: identify on receipt cases whose STL is within eight weeks.
    "stl_flag_days": env.int("JJP_STL_FLAG_DAYS", default=56),
    # Product policy: an STL this close, not charged, is alerted at once.
    "stl_urgent_days": env.int("JJP_STL_URGENT_DAYS", default=14),
    # Product policy: calendar days before a due date at which a clock is "due soon".
    "due_soon_days": env.int("JJP_DUE_SOON_DAYS", default=3),
    # CJA 1988 s.39A (PCSC Act 2022 s.49). UNCONFIRMED commencement / non-retrospectivity: domain-rules.md 1.2.
    "s39a_applies_from": datetime.date.fromisoformat(env.str("JJP_S39A_APPLIES_FROM", default="2022-06-28")),
    # Victims' Code Right 6: 1 working day (enhanced rights) or 5.
    "victim_update_enhanced_working_days": env.int("JJP_VICTIM_UPDATE_ENHANCED_WD", default=1),
    "victim_update_standard_working_days": env.int("JJP_VICTIM_UPDATE_STANDARD_WD", default=5),
}
# Every other value of the rules (cases.clocks.ClockRules: CA 2003, DVPO and DAPN periods, custody time limits,
# pre-charge bail, MARAC, the Victims' Right to Review, ...) is set without a code change as JJP_RULE_<NAME>, e.g.
# JJP_RULE_CTL_ALERT_WORKING_DAYS=10; docs/rules.md names each with its source and default.
from cases.clocks import rules_from_environment  # noqa: E402 (pure: no Django)

JJP_RULES = {**rules_from_environment(os.environ), **JJP_RULES}

# Input checks (docs/rules.md, "Input checks"): the earliest date accepted for an event a person types (a report,
# an offence, a receipt, a decision; cases.kernel.not_future) and for a date of birth. Earlier dates are typing
# errors (1900 for 2000), refused with a message naming the field.
_date = datetime.date.fromisoformat
JJP_EARLIEST_EVENT_DATE = _date(env.str("JJP_EARLIEST_EVENT_DATE", default="1950-01-01"))
JJP_EARLIEST_BIRTH_DATE = _date(env.str("JJP_EARLIEST_BIRTH_DATE", default="1900-01-01"))
