"""One settings module, read from the environment, with an embedded default.

Without DATABASE_URL and REDIS_URL the engine runs embedded: SQLite, in-memory
channel layer, local-memory cache and Celery tasks in-process. With them it runs
on the real stack: PostgreSQL, Redis as broker, cache and channel layer, and
Celery workers as separate processes.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
# DJANGO_ENV=production: HTTPS only (secure cookies, HSTS, redirect) and a SECRET_KEY of its own, or no start.
PRODUCTION = os.environ.get("DJANGO_ENV", "development").strip().lower() == "production"
# The embedded demo needs no configuration; production must set its own key.
DEMO_SECRET_KEY = "quantumleap-embedded-demo-key-not-for-production"  # noqa: S105 (refused in production)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "") or DEMO_SECRET_KEY
if PRODUCTION and (SECRET_KEY == DEMO_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs DJANGO_SECRET_KEY: a random key of at least 50 characters, not the demo's "
        '(python -c "from django.core.management.utils import get_random_secret_key as k; print(k())").'
    )
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [origin for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin]

INSTALLED_APPS = [
    "daphne",
    # The admin's default site is django-otp's OTPAdminSite: only a session verified with a one-time password.
    "accounts.apps.OtpAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "accounts",
    "trading",
    "risk",
    "strategies",
    "backtests",
]

MIDDLEWARE = [
    "quantumleap.errors.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After the OTP middleware: a session with a device is verified, an operations user has one, idle ends it.
    "accounts.middleware.OtpEnforcementMiddleware",
    "accounts.middleware.SessionIdleMiddleware",
    "accounts.origin.OriginMiddleware",  # who, how and from where, for the events a request records
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "quantumleap.urls"
ASGI_APPLICATION = "quantumleap.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASE_URL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI, requests run on many threads: a bounded pool per process, never a connection per thread.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "8")),
        "timeout": 30,
    }
    # Server-side parameters, so that psycopg prepares a statement the fifth time a connection runs it:
    # the pipeline's queries repeat with new values, and PostgreSQL then plans each once per connection
    # (the order row read with its instrument, strategy, signal and parent took 1.5 ms to plan, 0.3 to run).
    # DATABASE_PREPARE_THRESHOLD= (empty) turns preparing off, e.g. behind a transaction-mode PgBouncer.
    prepare_threshold = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
    DATABASES["default"]["OPTIONS"].update(
        server_side_binding=True, prepare_threshold=int(prepare_threshold) if prepare_threshold else None
    )
elif DATABASE_URL and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # DATABASE_URL=sqlite:///path: the embedded default's engine in another file.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
elif not DATABASE_URL:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Writers wait for the lock instead of failing at once.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
            # A file, not memory, so test servers and workers in other processes share it; one per test run.
            "TEST": {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "quantumleap.cache.SharedRedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_EXPIRES = timedelta(hours=1)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://localhost/"
    # Embedded default: tasks run in-process, after the transaction commits.
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# A worker that waited longer than this for an account's lock books the account's other pending fills too.
FILL_GROUP_COMMIT_WAIT_MS = float(os.environ.get("FILL_GROUP_COMMIT_WAIT_MS", "5"))
# Signals one web process validates at once (each holds its account's row lock while it does).
SIGNAL_INTAKE_CONCURRENCY = int(os.environ.get("SIGNAL_INTAKE_CONCURRENCY", "1"))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup would close the database connection, and with it the process's whole connection
# pool, after every task: a new PostgreSQL backend per order. Workers keep their pool; quantumleap.celery
# hands each task's connection back to it (and drops a broken one) before the next task.
CELERY_DB_REUSE_MAX = 100_000
# Outcomes live in the database and its events, not in task results: storing one, and subscribing to its
# channel from the web process at every dispatch, cost a Redis connection per signal. Ask for a result
# explicitly (apply_async(ignore_result=False)) where one is wanted.
CELERY_TASK_IGNORE_RESULT = True
# One result-backend client per process, not one per thread: the web runs each request in a new thread,
# and a per-thread backend meant a new Redis client (and a package-metadata lookup) at every dispatch.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused for LOGIN_COOLOFF_MINUTES (the login page says so, HTTP 429).
AUTHENTICATION_BACKENDS = ["accounts.backends.LoginLockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Idle timeout: a session unused this long ends (accounts.middleware.SessionIdleMiddleware renews it on use).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
# Renewing the session is a write: at most once per this many seconds of use, not at every request.
SESSION_RENEW_SECONDS = int(os.environ.get("SESSION_RENEW_SECONDS", "60"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# A dashboard's live socket looks this often whether its session still lives, and closes once it does not.
SESSION_SOCKET_CHECK_SECONDS = float(os.environ.get("SESSION_SOCKET_CHECK_SECONDS", "30"))
# Sign-in with a one-time password (django-otp TOTP, backup codes on a static device).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "QuantumLeap")
OTP_STATIC_BACKUP_CODES = 10
# The password step holds its user for the code step this long.
OTP_LOGIN_PENDING_SECONDS = 300

# HTTPS only in production: secure cookies, HSTS and a redirect (SECURE_PROXY_SSL_HEADER behind a proxy).
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes and the scraper may ask over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL", False):  # a TLS-terminating proxy in front sets X-Forwarded-Proto
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy, enforced everywhere (the browser tests see any violation): scripts, styles and
# connections from this site only, no inline script or style, no frames, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# /metrics: a scraper sends `Authorization: Bearer <METRICS_TOKEN>`, or comes from an address listed in
# METRICS_ALLOWED_IPS (default: loopback in development, none in production); anyone else gets a 403.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = [
    ip for ip in os.environ.get("METRICS_ALLOWED_IPS", "" if PRODUCTION else "127.0.0.1,::1").split(",") if ip
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # One permission layer: each view states its roles per method (accounts.permissions); no statement, no access.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttles.ApiKeyRateThrottle", "accounts.throttles.UserRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "quantumleap.schema.ApiSchema",
    # JSON only, read strictly (quantumleap/parsers.py); any other body is a 415.
    "DEFAULT_PARSER_CLASSES": ["quantumleap.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "quantumleap.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "quantumleap.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# Requests a minute per API key (a key's rate_limit_per_minute overrides it) and per user; 0: no limit.
API_RATE_PER_KEY = int(os.environ.get("API_RATE_PER_KEY", "600"))
API_RATE_PER_USER = int(os.environ.get("API_RATE_PER_USER", "1200"))
# The largest request body: a batch of 100 signals with full metadata fits; an API body over it is a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024)))
SPECTACULAR_SETTINGS = {
    "TITLE": "QuantumLeap Trading Engine API",
    "DESCRIPTION": "Signals in, orders out, under the trader's risk limits.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response components apart: a request's decimals and read-only fields differ from the answer's.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set used in several places (check --deploy runs the schema generation and warns).
    "ENUM_NAME_OVERRIDES": {
        "BreachActionEnum": "risk.models.RiskParameters.BreachAction",
        "SignalStatusEnum": "strategies.models.TradingSignal.Status",
        "BacktestStatusEnum": "backtests.models.Status",
        "StrategyStatusEnum": "strategies.models.Strategy.Status",
        "StrategyTypeEnum": "strategies.models.Strategy.StrategyType",
        "GeneratorTypeEnum": "strategies.core.generators.GENERATOR_TYPES",
    },
}

# Paper broker fill model (see trading/core/fills.py).
PAPER_SLIPPAGE_BPS = Decimal(os.environ.get("PAPER_SLIPPAGE_BPS", "5"))
PAPER_COMMISSION_PER_SHARE = Decimal(os.environ.get("PAPER_COMMISSION_PER_SHARE", "0.005"))
PAPER_COMMISSION_MINIMUM = Decimal(os.environ.get("PAPER_COMMISSION_MINIMUM", "1.00"))
# per_share (the default), per_order (a flat fee per fill) or bps (basis points of a fill's notional).
PAPER_COMMISSION_MODEL = os.environ.get("PAPER_COMMISSION_MODEL", "per_share")
PAPER_COMMISSION_PER_ORDER = Decimal(os.environ.get("PAPER_COMMISSION_PER_ORDER", "1.00"))
PAPER_COMMISSION_BPS = Decimal(os.environ.get("PAPER_COMMISSION_BPS", "1"))
# Liquidity: a fill takes at most this share of the volume available (1 = liquidity never limits a fill).
PAPER_MAX_PARTICIPATION = Decimal(os.environ.get("PAPER_MAX_PARTICIPATION", "1.0"))
# Shares at the top of the book a market order meets at placement; empty: the symbol's volume per feed interval.
PAPER_TOP_OF_BOOK_SIZE = os.environ.get("PAPER_TOP_OF_BOOK_SIZE", "")
BROKER_BACKEND = os.environ.get("BROKER_BACKEND", "trading.brokers.paper.PaperBroker")
# What trading asks before it creates an order that may open exposure (trading.pretrade): the risk engine.
PRE_TRADE_GATE = "risk.pretrade.order_verdict"
# Interactive Brokers (BROKER_BACKEND=trading.brokers.ib.InteractiveBrokersBroker): TWS or IB Gateway.
IB_HOST = os.environ.get("IB_HOST", "127.0.0.1")
IB_PORT = int(os.environ.get("IB_PORT", "7497"))
IB_CLIENT_ID = int(os.environ.get("IB_CLIENT_ID", "17"))
IB_ACCOUNT = os.environ.get("IB_ACCOUNT", "")  # empty: the single managed account
IB_TIMEOUT_SECONDS = float(os.environ.get("IB_TIMEOUT_SECONDS", "10"))
# Broker credentials at rest (trading.brokers.credentials): Fernet keys, comma-separated, the first encrypts;
# never derived from SECRET_KEY. Unset: the embedded default keeps a generated key in CREDENTIALS_KEY_FILE
# (0600, under the data directory, ignored by git); with DJANGO_ENV=production there is no key file and
# storing or reading a credential is refused until CREDENTIALS_KEYS is set.
CREDENTIALS_KEYS = os.environ.get("CREDENTIALS_KEYS", "")
DATA_DIR = Path(os.environ.get("QL_DATA_DIR", str(BASE_DIR / "var")))
CREDENTIALS_KEY_FILE = os.environ.get(
    "CREDENTIALS_KEY_FILE",
    "" if os.environ.get("DJANGO_ENV", "").lower() == "production" else str(DATA_DIR / "credentials.key"),
)
# Placement: 3 tries, waiting 1 then 2 s (the design's 1, 2, 4, 8 s backoff, capped at 3 tries).
BROKER_RETRY_DELAYS = (1, 2, 4, 8)
BROKER_PLACEMENT_TRIES = 3
BROKER_CIRCUIT_FAILURES = int(os.environ.get("BROKER_CIRCUIT_FAILURES", "5"))
BROKER_CIRCUIT_RESET = timedelta(seconds=int(os.environ.get("BROKER_CIRCUIT_RESET_SECONDS", "30")))
# Reconciliation with the broker: at start and on this schedule; NEW orders older than the grace are re-sent.
RECONCILE_INTERVAL = timedelta(seconds=int(os.environ.get("RECONCILE_INTERVAL_SECONDS", "30")))
RECONCILE_NEW_ORDER_GRACE = timedelta(seconds=int(os.environ.get("RECONCILE_NEW_ORDER_GRACE_SECONDS", "10")))
# Daily loss and drawdown limits are enforced on this schedule as well as before every order.
RISK_MONITOR_INTERVAL = timedelta(seconds=int(os.environ.get("RISK_MONITOR_INTERVAL_SECONDS", "5")))
# Events are sealed into the audit trail's hash chain (trading.audit) this often after they commit (as often as
# the risk monitor: a Celery task queued behind a busy worker's orders is late after 3 intervals).
AUDIT_SEAL_INTERVAL = timedelta(seconds=float(os.environ.get("AUDIT_SEAL_INTERVAL_SECONDS", "5")))
ORDERS_EXPIRE_INTERVAL = timedelta(seconds=int(os.environ.get("ORDERS_EXPIRE_INTERVAL_SECONDS", "60")))
# The Strategy Analyzer: every strategy's metrics and auto-pause rules on this schedule, and a strategy's
# own after its fills (one run per strategy per STRATEGY_PERFORMANCE_DELAY, however many fills came in it).
STRATEGY_ANALYZER_INTERVAL = timedelta(seconds=int(os.environ.get("STRATEGY_ANALYZER_INTERVAL_SECONDS", "300")))
STRATEGY_PERFORMANCE_DELAY = float(os.environ.get("STRATEGY_PERFORMANCE_DELAY_SECONDS", "2"))
# Alpha and beta are measured against this symbol's daily closes (a strategy's configuration["benchmark"] wins).
STRATEGY_BENCHMARK_SYMBOL = os.environ.get("STRATEGY_BENCHMARK_SYMBOL", "SPY")
# Built-in generators re-read the running strategies at most this often (and at once after a lifecycle event).
STRATEGY_RUNNER_REFRESH_SECONDS = float(os.environ.get("STRATEGY_RUNNER_REFRESH_SECONDS", "5"))
# Bars of each symbol replayed into a generator when it starts (after a restart or a deploy), at most.
STRATEGY_RUNNER_WARMUP_BARS = int(os.environ.get("STRATEGY_RUNNER_WARMUP_BARS", "500"))
# Celery beat on the real stack; on the embedded default the web process runs the same schedule itself
# (quantumleap.housekeeping).
CELERY_BEAT_SCHEDULE = {
    "broker-reconcile": {"task": "trading.tasks.broker_reconcile_task", "schedule": RECONCILE_INTERVAL},
    "portfolio-risk-monitor": {"task": "risk.tasks.portfolio_risk_monitor_all_task", "schedule": RISK_MONITOR_INTERVAL},
    "orders-expire-day": {"task": "trading.tasks.orders_expire_day_task", "schedule": ORDERS_EXPIRE_INTERVAL},
    "strategy-analyzer": {"task": "strategies.tasks.strategies_analyze_task", "schedule": STRATEGY_ANALYZER_INTERVAL},
    "audit-seal": {"task": "trading.tasks.audit_seal_task", "schedule": AUDIT_SEAL_INTERVAL},
}
# Loops that run continuously (the feed, the stop monitor, the event pusher) beat at least this often;
# every loop is late, and /readyz answers 503, after 3 of its intervals without a beat.
LOOP_HEARTBEAT_SECONDS = float(os.environ.get("LOOP_HEARTBEAT_SECONDS", "5"))

# Backtests and optimizations run as Celery tasks; on the embedded default in a thread of the web process, so a
# request answers at once and the page sees the run's progress live (backtests/services/common.py).
BACKTESTS_IN_THREAD = env_bool("BACKTESTS_IN_THREAD", CELERY_TASK_ALWAYS_EAGER)

# Embedded default: the web process runs Celery beat's schedule itself (quantumleap.housekeeping).
HOUSEKEEPING_IN_PROCESS = env_bool("HOUSEKEEPING_IN_PROCESS", True)
# Simulated market feed: started by the ASGI app when MARKET_FEED=simulated (make run).
MARKET_FEED = os.environ.get("MARKET_FEED", "")
MARKET_FEED_SEED = int(os.environ.get("MARKET_FEED_SEED", "7"))
MARKET_FEED_INTERVAL = timedelta(milliseconds=int(os.environ.get("MARKET_FEED_INTERVAL_MS", "250")))
# The simulated feed's clock runs this many times faster than the wall clock (1: real time). At 60 a 1-minute
# bar closes every second: the browser tests watch a built-in generator trade within a minute.
MARKET_FEED_CLOCK_SPEEDUP = float(os.environ.get("MARKET_FEED_CLOCK_SPEEDUP", "1"))
# Started in the process that runs the feed, each called with its market data manager to subscribe itself:
# the stop monitor on every tick, a simulated venue's resting orders every feed interval.
# The built-in strategy generators on every closed 1-minute bar (strategies.runner).
MARKET_DATA_STREAM_SUBSCRIBERS = [
    "risk.monitor.stop_monitor_start",
    "trading.services.venue.venue_subscribe",
    "strategies.runner.strategy_runner_start",
]
# A symbol with no tick for this long, while a feed runs, is stale: new orders on it are refused.
MARKET_DATA_STALE_SECONDS = int(os.environ.get("MARKET_DATA_STALE_SECONDS", "10"))
# Browsers get at most one price push per this interval.
MARKET_PUSH_INTERVAL = timedelta(milliseconds=int(os.environ.get("MARKET_PUSH_INTERVAL_MS", "1000")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes tells of every sign-in at INFO; its lockouts are WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}
