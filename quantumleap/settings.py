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

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
# The embedded demo needs no configuration; production must set its own key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "quantumleap-embedded-demo-key-not-for-production")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "accounts",
    "trading",
    "risk",
    "strategies",
]

MIDDLEWARE = [
    "quantumleap.errors.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
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
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_TIMEOUT_SECONDS", 8 * 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

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
# Fernet keys for broker credentials at rest, newest first (rotation); unset: derived from SECRET_KEY.
BROKER_CREDENTIAL_KEYS = os.environ.get("BROKER_CREDENTIAL_KEYS", "")
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
ORDERS_EXPIRE_INTERVAL = timedelta(seconds=int(os.environ.get("ORDERS_EXPIRE_INTERVAL_SECONDS", "60")))
# Celery beat on the real stack; on the embedded default the web process runs the same schedule itself
# (quantumleap.housekeeping).
CELERY_BEAT_SCHEDULE = {
    "broker-reconcile": {"task": "trading.tasks.broker_reconcile_task", "schedule": RECONCILE_INTERVAL},
    "portfolio-risk-monitor": {"task": "risk.tasks.portfolio_risk_monitor_all_task", "schedule": RISK_MONITOR_INTERVAL},
    "orders-expire-day": {"task": "trading.tasks.orders_expire_day_task", "schedule": ORDERS_EXPIRE_INTERVAL},
}
# Loops that run continuously (the feed, the stop monitor, the event pusher) beat at least this often;
# every loop is late, and /readyz answers 503, after 3 of its intervals without a beat.
LOOP_HEARTBEAT_SECONDS = float(os.environ.get("LOOP_HEARTBEAT_SECONDS", "5"))

# Embedded default: the web process runs Celery beat's schedule itself (quantumleap.housekeeping).
HOUSEKEEPING_IN_PROCESS = env_bool("HOUSEKEEPING_IN_PROCESS", True)
# Simulated market feed: started by the ASGI app when MARKET_FEED=simulated (make run).
MARKET_FEED = os.environ.get("MARKET_FEED", "")
MARKET_FEED_SEED = int(os.environ.get("MARKET_FEED_SEED", "7"))
MARKET_FEED_INTERVAL = timedelta(milliseconds=int(os.environ.get("MARKET_FEED_INTERVAL_MS", "250")))
# Started in the process that runs the feed, each called with its market data manager to subscribe itself:
# the stop monitor on every tick, a simulated venue's resting orders every feed interval.
MARKET_DATA_STREAM_SUBSCRIBERS = ["risk.monitor.stop_monitor_start", "trading.services.venue.venue_subscribe"]
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
