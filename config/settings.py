"""Herald's settings: every value comes from the environment (or `.env`), read here and nowhere else.

The defaults are the embedded setup: SQLite in WAL mode, a filesystem Celery broker, a file cache and
the Telegram sandbox, all under ``HERALD_DATA_DIR``. One variable each moves a part to production:
``DATABASE_URL``, ``CELERY_BROKER_URL``, ``REDIS_URL`` / ``CACHE_URL``, ``TELEGRAM_API_BASE``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(_dotenv, overwrite=False)

TESTING = env.bool("HERALD_TESTING", default=False)

# --- Where Herald keeps its files -------------------------------------------------------------------

DATA_DIR = Path(env.str("HERALD_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret(name: str) -> str:
    """A random secret created on first start and kept in the data dir, so a dev setup needs no config."""
    path = DATA_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("HERALD_DEBUG", default=False)
# The sandbox is a local Bot API server served by Herald itself; on by default so Herald runs offline.
HERALD_SANDBOX = env.bool("HERALD_SANDBOX", default=True)
# Production (the sandbox off, DEBUG off) runs web, worker and beat in several containers or machines:
# each must be given the same secrets, since keys it generated itself would not match the others'.
SECRETS_REQUIRED = not HERALD_SANDBOX and not DEBUG


def _configured_secret(name: str) -> str:
    """The secret in ``name``; refused when it is the example file's placeholder or, in production, unset."""
    value = env.str(name, default="").strip()
    if value.lower().startswith("change-me"):
        raise ImproperlyConfigured(f"{name} is still the example's placeholder {value!r}: set a real secret.")
    if not value and SECRETS_REQUIRED:
        raise ImproperlyConfigured(
            f"{name} is not set. With HERALD_SANDBOX=0 every web, worker and beat process must be given "
            "the same value (see docs/production.md); only the embedded setup generates its own."
        )
    return value


SECRET_KEY = _configured_secret("HERALD_SECRET_KEY") or _persistent_secret("secret_key")

HERALD_HOST = env.str("HERALD_HOST", default="127.0.0.1")
HERALD_PORT = env.int("HERALD_PORT", default=8000)
HERALD_PUBLIC_URL = env.str("HERALD_PUBLIC_URL", default=f"http://{HERALD_HOST}:{HERALD_PORT}").rstrip("/")
HERALD_ADMIN_USERNAME = env.str("HERALD_ADMIN_USERNAME", default="admin")
HERALD_ADMIN_PASSWORD = env.str("HERALD_ADMIN_PASSWORD", default="")
HERALD_ADMIN_EMAIL = env.str("HERALD_ADMIN_EMAIL", default="admin@localhost")

ALLOWED_HOSTS = env.list("HERALD_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("HERALD_CSRF_TRUSTED_ORIGINS", default=[HERALD_PUBLIC_URL])

# --- Applications -----------------------------------------------------------------------------------

INSTALLED_APPS = [
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "herald.core",
    "herald.accounts",
    "herald.telegram",
    "herald.telegram.sandbox",
    "herald.bots",
    "herald.notify",
    "herald.wallet",
    "herald.content",
    "herald.studio",
]

MIDDLEWARE = [
    "herald.core.middleware.RequestMetricsMiddleware",
    # Telegram's webhook POSTs are answered here, past the middleware below (herald/bots/middleware.py)
    "herald.bots.middleware.WebhookFastPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "herald.core.middleware.JsonErrorMiddleware",
    # the database down or locked too long: 503 + Retry-After on the admin and the sandbox, not a 500
    "herald.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- Database ---------------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'herald.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with one process's writers queueing in the process instead of SQLite's busy handler
    DATABASES["default"]["ENGINE"] = "herald.core.db.sqlite"
    # WAL lets readers and one writer work at once; IMMEDIATE transactions take the write lock up
    # front, so two writers wait on the busy timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
    # A file, not in-memory: a real `celery worker` process in the integration tests must see the test's
    # rows, and threads (live server, race tests) wait on the busy timeout instead of failing with
    # "database table is locked" as they do on shared-cache memory.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    # one connection per thread for its lifetime: opening one costs the PRAGMAs above
    DATABASES["default"]["CONN_MAX_AGE"] = None
else:
    # Persistent connections in production; in tests every thread closes its connection after each
    # request, so the test database can be dropped at the end of the run.
    DATABASES["default"].setdefault(
        "CONN_MAX_AGE", 0 if TESTING else env.int("DATABASE_CONN_MAX_AGE", default=60)
    )
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Cache and shared counters ----------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
# django-environ maps redis:// and rediss:// (TLS) to Django's RedisCache as they are
_default_cache = REDIS_URL or f"filecache://{DATA_DIR / 'cache'}"
CACHES = {"default": env.cache("CACHE_URL", default=_default_cache)}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":  # django-environ's older alias
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"

# Token buckets for Telegram pacing must hold across processes: Redis when there is one, otherwise
# a table in the database.
RATE_LIMIT_BACKEND = env.str("HERALD_RATE_LIMIT_BACKEND", default="redis" if REDIS_URL else "database")

# --- Celery -----------------------------------------------------------------------------------------

_broker_dir = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # exchange bindings (remote control, broadcasts); kombu's default is a folder relative to the cwd
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# Sends to Telegram (the outbox) have a queue of their own, which every worker reads too (a worker started
# without -Q consumes all of these): a reply does not wait behind a burst of updates being processed.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("outbox"))
CELERY_TASK_ROUTES = {"herald.telegram.tasks.*": {"queue": "outbox"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis (and SQS) redeliver a task that was taken but never acknowledged (its worker died) after this
# many seconds; it must exceed the longest countdown/ETA a task is scheduled with.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600)
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}

# --- Periodic tasks (beat) --------------------------------------------------------------------------

# DatabaseScheduler copies these into django_celery_beat's tables on start; edit them in the admin.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # /health reports when a worker last ran this
    # (expire_seconds: while no worker runs, heartbeats are dropped instead of piling up in the broker)
    "core.worker_heartbeat": {
        "task": "herald.core.tasks.worker_heartbeat",
        "schedule": 30.0,
        "options": {"expire_seconds": 25},
    },
    # outbox rows whose wake-up was lost (a killed worker, a dropped broker message) are sent anyway
    "telegram.outbox_sweep": {"task": "herald.telegram.tasks.outbox_sweep_task", "schedule": 30.0},
    # webhook updates whose processing task was lost are processed anyway
    "bots.updates_sweep": {"task": "bots.updates_sweep", "schedule": 60.0},
    # wallet: drive transactions left PENDING to an end; daily expiry notices and auto-renewals
    "wallet.activation_sweep": {
        "task": "herald.wallet.tasks.activation_sweep_task",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "notify.deliveries_sweep": {
        "task": "herald.notify.tasks.deliveries_sweep_task",
        "schedule": 300.0,
        "options": {"expire_seconds": 290},
    },
    # content: scheduled posts due (a safety net under each post's own wake-up at its time), lost
    # publications, automatic retries; published posts archived after CONTENT_ARCHIVE_AFTER_DAYS
    "content.posts_due_sweep": {
        "task": "content.posts_due_sweep",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "content.posts_archive": {"task": "content.posts_archive", "schedule": 24 * 3600.0},
    "wallet.subscriptions_expiring": {
        "task": "herald.wallet.tasks.subscriptions_expiring_task",
        "schedule": 24 * 3600.0,
    },
}

# --- Telegram ---------------------------------------------------------------------------------------

# HERALD_SANDBOX (the local Bot API server) is read at the top: it also decides whether secrets are required.
TELEGRAM_API_BASE = env.str(
    "TELEGRAM_API_BASE",
    default=f"{HERALD_PUBLIC_URL}/sandbox/bot" if HERALD_SANDBOX else "https://api.telegram.org/bot",
)
TELEGRAM_FILE_BASE = env.str(
    "TELEGRAM_FILE_BASE",
    default=f"{HERALD_PUBLIC_URL}/sandbox/file/bot"
    if HERALD_SANDBOX
    else "https://api.telegram.org/file/bot",
)
TELEGRAM_TIMEOUT_SECONDS = env.float("TELEGRAM_TIMEOUT_SECONDS", default=15.0)
# HTTP connections each process keeps open to the Bot API, in pools of 8 (each bot always uses the same one).
TELEGRAM_CONNECTION_POOL_SIZE = env.int("TELEGRAM_CONNECTION_POOL_SIZE", default=128)
# Calls a process has in flight at once; more wait their turn (unsent) instead of crowding the pool.
TELEGRAM_MAX_IN_FLIGHT = env.int("TELEGRAM_MAX_IN_FLIGHT", default=32)
# Telegram's published limits. Pacing can be switched off only to measure Herald's own capacity.
TELEGRAM_PACING = env.bool("TELEGRAM_PACING", default=True)
TELEGRAM_LIMIT_PER_BOT = env.float("TELEGRAM_LIMIT_PER_BOT", default=30.0)  # messages per second
TELEGRAM_LIMIT_PER_PRIVATE_CHAT = env.float("TELEGRAM_LIMIT_PER_PRIVATE_CHAT", default=1.0)  # per second
TELEGRAM_LIMIT_PER_GROUP = env.float("TELEGRAM_LIMIT_PER_GROUP", default=20.0 / 60.0)  # per second
# The share of each limit that pacing books: the rest absorbs network jitter, so sends booked a full
# interval apart never reach Telegram closer together than its window allows.
TELEGRAM_PACING_HEADROOM = env.float("TELEGRAM_PACING_HEADROOM", default=0.95)
# The same for a group's or channel's 20 a minute: tens of ms of jitter are little against a minute, so
# posts to a channel go almost at Telegram's own pace (a 3.03 s spacing instead of 3.16 s).
TELEGRAM_GROUP_PACING_HEADROOM = env.float("TELEGRAM_GROUP_PACING_HEADROOM", default=0.99)
TELEGRAM_OUTBOX_MAX_ATTEMPTS = env.int("TELEGRAM_OUTBOX_MAX_ATTEMPTS", default=8)
TELEGRAM_OUTBOX_STALE_SECONDS = env.int("TELEGRAM_OUTBOX_STALE_SECONDS", default=120)
# Drain tasks started per bot for a bulk enqueue (fan-out); about the number of worker processes.
TELEGRAM_OUTBOX_DRAINERS = env.int("TELEGRAM_OUTBOX_DRAINERS", default=4)

# The sandbox delivers updates to webhooks itself; in tests that happens inline, in a real run from a
# background thread of the web process.
SANDBOX_WEBHOOK_TIMEOUT_SECONDS = env.float("SANDBOX_WEBHOOK_TIMEOUT_SECONDS", default=10.0)

# --- Wallet, activation system and notifications (seed 002) -----------------------------------------

WALLET_CURRENCY = env.str("WALLET_CURRENCY", default="EUR")
# An activation is tried this many times (transient errors only), waiting base * 2**n (+ jitter, capped).
WALLET_ACTIVATION_MAX_ATTEMPTS = env.int("WALLET_ACTIVATION_MAX_ATTEMPTS", default=5)
WALLET_ACTIVATION_BACKOFF_SECONDS = env.float("WALLET_ACTIVATION_BACKOFF_SECONDS", default=2.0)
WALLET_ACTIVATION_BACKOFF_MAX_SECONDS = env.float("WALLET_ACTIVATION_BACKOFF_MAX_SECONDS", default=300.0)
# The sweeper re-drives a transaction left PENDING (lost task, crash) this long after its last change.
WALLET_ACTIVATION_STALE_SECONDS = env.int("WALLET_ACTIVATION_STALE_SECONDS", default=600)
WALLET_OFFERS_CACHE_SECONDS = env.int("WALLET_OFFERS_CACHE_SECONDS", default=300)
WALLET_STATUS_CACHE_SECONDS = env.int("WALLET_STATUS_CACHE_SECONDS", default=24 * 3600)
WALLET_EXPIRY_NOTICE_DAYS = env.int("WALLET_EXPIRY_NOTICE_DAYS", default=3)
WALLET_PARTNER_SIGNATURE_TOLERANCE_SECONDS = env.int(
    "WALLET_PARTNER_SIGNATURE_TOLERANCE_SECONDS", default=300
)
WALLET_PARTNER_CALLBACK_MAX_ATTEMPTS = env.int("WALLET_PARTNER_CALLBACK_MAX_ATTEMPTS", default=6)
WALLET_PARTNER_CALLBACK_TIMEOUT_SECONDS = env.float("WALLET_PARTNER_CALLBACK_TIMEOUT_SECONDS", default=10.0)

# The external activation system; the sandbox twin at /sandbox/activation/ when the sandbox is on.
ACTIVATION_API_BASE = env.str(
    "ACTIVATION_API_BASE",
    default=f"{HERALD_PUBLIC_URL}/sandbox/activation" if HERALD_SANDBOX else "",
).rstrip("/")
ACTIVATION_API_TOKEN = env.str("ACTIVATION_API_TOKEN", default="")
ACTIVATION_TIMEOUT_SECONDS = env.float("ACTIVATION_TIMEOUT_SECONDS", default=10.0)
# The sandbox twin's behaviour (changeable at run time through POST /sandbox/activation/control).
ACTIVATION_SANDBOX_SUCCESS_RATE = env.float("ACTIVATION_SANDBOX_SUCCESS_RATE", default=1.0)
ACTIVATION_SANDBOX_LATENCY_MS = env.int("ACTIVATION_SANDBOX_LATENCY_MS", default=0)
ACTIVATION_SANDBOX_FAILURE_KIND = env.str("ACTIVATION_SANDBOX_FAILURE_KIND", default="reject")

# Outbound notices: SMS goes through this transport ("sandbox" keeps messages in a table);
# Telegram notices go out through this bot when a user has linked a chat.
NOTIFY_SMS_BACKEND = env.str("NOTIFY_SMS_BACKEND", default="sandbox")
NOTIFY_TELEGRAM_BOT_TOKEN = env.str("NOTIFY_TELEGRAM_BOT_TOKEN", default="")
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)

# --- Channel studio (herald/studio) -----------------------------------------------------------------

# Each editor may send this many updates a minute (after a burst); beyond it they are paused for a while.
STUDIO_RATE_PER_MINUTE = env.int("STUDIO_RATE_PER_MINUTE", default=30)
STUDIO_RATE_BURST = env.int("STUDIO_RATE_BURST", default=10)
STUDIO_BLOCK_SECONDS = env.int("STUDIO_BLOCK_SECONDS", default=60)

# --- Channel posts (herald/content) -----------------------------------------------------------------

# A failed publication is tried again automatically after this many seconds (the seed's "+5 minutes"),
# up to CONTENT_PUBLISH_MAX_ATTEMPTS attempts in all; the editor can retry by hand after that.
CONTENT_PUBLISH_RETRY_SECONDS = env.int("CONTENT_PUBLISH_RETRY_SECONDS", default=300)
CONTENT_PUBLISH_MAX_ATTEMPTS = env.int("CONTENT_PUBLISH_MAX_ATTEMPTS", default=3)
# A post handed to the gateway this long ago without an outcome is looked at again by the sweeper.
CONTENT_PUBLISH_STALE_SECONDS = env.int("CONTENT_PUBLISH_STALE_SECONDS", default=60)
# Scheduled posts get a wake-up at their exact time when they are due within this horizon; later ones
# are armed by the every-minute sweep (it must stay below CELERY_BROKER_VISIBILITY_TIMEOUT).
CONTENT_SCHEDULE_HORIZON_SECONDS = env.int("CONTENT_SCHEDULE_HORIZON_SECONDS", default=1800)
CONTENT_ARCHIVE_AFTER_DAYS = env.int("CONTENT_ARCHIVE_AFTER_DAYS", default=30)

# --- AI text generation (herald/ai) ----------------------------------------------------------------

# Any OpenAI-compatible API (OpenAI, Groq, Ollama, vLLM). No key: posts are written offline from
# built-in templates. The sandbox twin answers at <HERALD_PUBLIC_URL>/sandbox/ai/v1 (any key works).
AI_API_KEY = env.str("AI_API_KEY", default="")
AI_BASE_URL = env.str("AI_BASE_URL", default="https://api.openai.com/v1").rstrip("/")
AI_MODEL = env.str("AI_MODEL", default="gpt-4o-mini")
AI_TIMEOUT_SECONDS = env.float("AI_TIMEOUT_SECONDS", default=30.0)
# Calls per generation round on transient errors (timeouts, 429, 5xx), waiting base * 2**n with jitter.
AI_MAX_ATTEMPTS = env.int("AI_MAX_ATTEMPTS", default=3)
AI_BACKOFF_SECONDS = env.float("AI_BACKOFF_SECONDS", default=1.0)
# Extra rounds when the model's text is unusable (wrong script, too long, empty).
AI_MAX_REGENERATIONS = env.int("AI_MAX_REGENERATIONS", default=2)

# --- Auth -------------------------------------------------------------------------------------------

JWT_SIGNING_KEY = env.str("HERALD_JWT_SIGNING_KEY", default=SECRET_KEY)
JWT_ACCESS_TTL_SECONDS = env.int("HERALD_JWT_ACCESS_TTL_SECONDS", default=15 * 60)
JWT_REFRESH_TTL_SECONDS = env.int("HERALD_JWT_REFRESH_TTL_SECONDS", default=14 * 24 * 3600)
LOGIN_RATE_LIMIT = env.str("HERALD_LOGIN_RATE_LIMIT", default="10/300")  # attempts / seconds, per username+IP
# Fernet keys for secrets at rest (bot tokens); the first encrypts, all decrypt, so keys can rotate.
FERNET_KEYS = [key.strip() for key in _configured_secret("HERALD_FERNET_KEYS").split(",") if key.strip()] or [
    _persistent_secret("fernet_key_seed")
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/admin/login/"

# --- HTTP -------------------------------------------------------------------------------------------

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("HERALD_MAX_BODY_BYTES", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("HERALD_BEHIND_PROXY", default=False) else None
)
# Served over HTTPS (the public URL says so): cookies go over HTTPS only. HSTS and the HTTP->HTTPS
# redirect are opt-in, usually done by the proxy; /health and /metrics stay reachable over plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool(
    "HERALD_SECURE_COOKIES", default=HERALD_PUBLIC_URL.startswith("https://")
)
SECURE_HSTS_SECONDS = env.int("HERALD_HSTS_SECONDS", default=0)
SECURE_SSL_REDIRECT = env.bool("HERALD_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]

# --- Static, media, i18n ----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Telegram sandbox -------------------------------------------------------------------------------

# The official Bot API description every sandbox request is checked against (a copy ships with the app).
TELEGRAM_BOT_API_SPEC = Path(
    env.str(
        "TELEGRAM_BOT_API_SPEC",
        default=str(BASE_DIR / "herald" / "telegram" / "sandbox" / "bot-api-10.1.json"),
    )
)
# Telegram's limits as the sandbox enforces them (429 with retry_after); POST /sandbox/api/limits flips them.
SANDBOX_LIMITS_ENABLED = env.bool("SANDBOX_LIMITS_ENABLED", default=True)
SANDBOX_LIMIT_PER_BOT_PER_SECOND = env.int("SANDBOX_LIMIT_PER_BOT_PER_SECOND", default=30)
SANDBOX_LIMIT_PER_PRIVATE_CHAT_PER_SECOND = env.float(
    "SANDBOX_LIMIT_PER_PRIVATE_CHAT_PER_SECOND", default=1.0
)
# Telegram lets a private chat take a short burst above 1/s before it answers 429.
SANDBOX_PRIVATE_CHAT_BURST = env.int("SANDBOX_PRIVATE_CHAT_BURST", default=3)
SANDBOX_LIMIT_PER_GROUP_PER_MINUTE = env.int("SANDBOX_LIMIT_PER_GROUP_PER_MINUTE", default=20)
SANDBOX_FILES_DIR = Path(env.str("SANDBOX_FILES_DIR", default=str(MEDIA_ROOT / "sandbox")))
# Webhook deliveries run on a background thread of the web process; tests call
# herald.telegram.sandbox.delivery.deliver_pending_updates() themselves instead.
SANDBOX_DELIVERY_THREAD = env.bool("SANDBOX_DELIVERY_THREAD", default=not TESTING)
SANDBOX_DELIVERY_POLL_SECONDS = env.float("SANDBOX_DELIVERY_POLL_SECONDS", default=0.5)
SANDBOX_WEBHOOK_MAX_AGE_SECONDS = env.int("SANDBOX_WEBHOOK_MAX_AGE_SECONDS", default=24 * 3600)
# getUpdates long polls wait at most this long, holding one of the web process's threads meanwhile.
SANDBOX_LONG_POLL_MAX_SECONDS = env.float("SANDBOX_LONG_POLL_MAX_SECONDS", default=10.0)
# How long a process trusts its in-memory copy of a bot or chat (tokens, admins) before reading the DB.
SANDBOX_CACHE_SECONDS = env.float("SANDBOX_CACHE_SECONDS", default=2.0)

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Email ------------------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("HERALD_FROM_EMAIL", default="herald@localhost")

# --- Admin (Unfold) ---------------------------------------------------------------------------------

UNFOLD = {
    "SITE_TITLE": "Herald",
    "SITE_HEADER": "Herald",
    "SHOW_HISTORY": True,
    # the start page: each hosted bot's users, requests, today's messages, blocked users, queued sends
    "DASHBOARD_CALLBACK": "herald.bots.dashboard.dashboard_callback",
}

# --- Metrics ----------------------------------------------------------------------------------------

# Set for every process on one host (make run does) so /metrics adds up web, worker and beat.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
# A worker with no web process beside it (its own container) serves /metrics on this port; 0 = off.
HERALD_WORKER_METRICS_PORT = env.int("HERALD_WORKER_METRICS_PORT", default=0)

# --- Logging ----------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("HERALD_LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "django.db.backends": {"level": "WARNING"}},
}

# --- Outbound HTTP to user-given URLs ---------------------------------------------------------------

# Flow HTTP steps and the scraper refuse private and loopback addresses; only a closed test setup may
# allow them.
HERALD_HTTP_ALLOW_PRIVATE = env.bool("HERALD_HTTP_ALLOW_PRIVATE", default=False)
