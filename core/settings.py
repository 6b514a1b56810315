"""Django settings, read from the environment (see .env.example).

With nothing set the project runs on its embedded default: SQLite under var/, a
file-system Celery broker and a file cache, so no Redis or PostgreSQL is needed.
DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from celery.schedules import crontab

from core.envconfig import database_from_url, env_bool, env_int_list, env_list
from onchain.networks import network_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LENDGRAM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", default=True)


def _secret_key() -> str:
    """Production must set DJANGO_SECRET_KEY; development keeps a generated one in var/."""
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Fernet keys for fields encrypted at rest; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "core.users",
    "core.loans",
    "core.ledger",
    "core.notifications",
    "core.scoring",
    "core.chat",
    "core.wallets",
    "core.devtools",
    "core.ops",
    "core.web",
    "bot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "core.urls"
ASGI_APPLICATION = "core.asgi.application"
WSGI_APPLICATION = "core.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "core" / "templates"],
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
DATABASES = {"default": database_from_url(DATABASE_URL, sqlite_path=VAR_DIR / "lendgram.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "not cached" when Redis is down (core/common/cache.py).
            "BACKEND": "core.common.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lendgram",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by the web, bot and worker processes of the embedded default.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ru", "Русский"),
    ("fa", "فارسی"),
    ("hi", "हिन्दी"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# core/static/vendor/ holds browser libraries copied from npm by `make setup` (not committed).
STATICFILES_DIRS = [BASE_DIR / "core" / "static"]

# Celery: Redis when REDIS_URL is set, otherwise kombu's file-system transport, which
# lets a real worker and beat run beside the web process with no broker server.
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A message taken by a worker that died unacknowledged (acks_late tasks) is given to
    # another worker after the visibility timeout; it must exceed the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_S") or "3600"),
        "socket_connect_timeout": 2}
else:
    CELERY_BROKER_URL = "filesystem://"
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
# Results that matter live in the database, never in the broker.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = False  # set per task, only where the task is idempotent
# A worker outlives a broker outage: it keeps reconnecting instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Lending rules that operators tune without a release.
KYC_TIER_LIMITS = {  # tier -> max principal a borrower may have outstanding, base units
    0: 0,
    1: 100_000_000,
    2: 1_000_000_000,
    3: 10_000_000_000,
}
STABLE_DECIMALS = 6
STABLE_SYMBOL = os.environ.get("STABLE_SYMBOL", "USDx")
LOAN_INTERVAL_DAYS = 30
FUNDING_WINDOW_DAYS = 7

# The chain: CHAIN_ID picks a preset (anvil 31337, XRPL EVM testnet 1449000, mainnet 1440000);
# RPC_URL overrides its endpoint or names any other chain.
CHAIN = network_from_env()
CHAIN_ID = CHAIN.chain_id
RPC_URL = CHAIN.rpc_url
# WalletConnect Cloud project id: set, the signing page offers WalletConnect next to the
# browser's own wallet (the bundle is built by `make setup`, served from static files).
WALLETCONNECT_PROJECT_ID = os.environ.get("WALLETCONNECT_PROJECT_ID", "")
# Deployed contracts per chain id (written by `make deploy-contracts`).
ONCHAIN_ADDRESSES_FILE = Path(os.environ.get("ONCHAIN_ADDRESSES_FILE",
                                            BASE_DIR / "onchain" / "addresses.json"))
# The underwriter signs loan approvals. On the local anvil chain its well-known dev key
# (anvil account 1, public, never for real money) is the default; elsewhere it must be set.
UNDERWRITER_PRIVATE_KEY = os.environ.get("UNDERWRITER_PRIVATE_KEY") or (
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    if CHAIN_ID == 31337 else "")
# Where wallets open signing pages: the public origin of this web app.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
# The bot's @username (without @): share links are t.me/<username>?start=...
TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME", "LendgramBot").lstrip("@")
TELEGRAM_API_BASE_URL = os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
ADMIN_TELEGRAM_IDS = env_int_list("ADMIN_TELEGRAM_IDS")
# A channel (numeric id, e.g. -1001234567890, the bot an admin there) where new listings are
# announced; 0: none. Channel posts have no reader language, so they use this one.
LOANS_CHANNEL_ID = int(os.environ.get("LOANS_CHANNEL_ID") or "0")
LOANS_CHANNEL_LANGUAGE = os.environ.get("LOANS_CHANNEL_LANGUAGE") or "en"

# LOG_FORMAT=json: one JSON object a line (core/ops/logs.py). Either way private keys, tokens,
# passwords in URLs and phone numbers are masked before a line is written.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "core.ops.logs.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "core.ops.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "json" if LOG_FORMAT == "json" else "plain",
                             "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django gives these loggers handlers of its own, which would print unredacted plain lines
    # next to ours: naming them here replaces those handlers with the redacting one.
    "loggers": {name: {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"),
                       "propagate": False} for name in ("django", "django.server")},
}
# Celery workers log through the handler above (JSON, redacted) instead of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Jobs and operations (issue 7): see .env.example -----------------------------------------
# The keeper sends markDefault/expire. On the local anvil chain the default is anvil's account
# 3, public knowledge: DEV ONLY; elsewhere it must be set (and funded with gas).
KEEPER_PRIVATE_KEY = os.environ.get("KEEPER_PRIVATE_KEY") or (
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
    if CHAIN_ID == 31337 else "")
KEEPER_SECONDS = float(os.environ.get("KEEPER_SECONDS") or "300")
# Reminders go out from this UTC hour on (hourly runs after it catch a missed one).
REMINDERS_HOUR_UTC = int(os.environ.get("REMINDERS_HOUR_UTC") or "8")
DIGEST_HOUR_UTC = int(os.environ.get("DIGEST_HOUR_UTC") or "6")
# /health answers 503 beyond these (core/ops/health.py).
HEALTH_MAX_INDEXER_LAG_BLOCKS = int(os.environ.get("HEALTH_MAX_INDEXER_LAG_BLOCKS") or "100")
HEALTH_MAX_OUTBOX_BACKLOG = int(os.environ.get("HEALTH_MAX_OUTBOX_BACKLOG") or "5000")
HEALTH_MAX_OUTBOX_AGE_S = int(os.environ.get("HEALTH_MAX_OUTBOX_AGE_S") or "600")
HEALTH_MAX_REVIEW_AGE_H = int(os.environ.get("HEALTH_MAX_REVIEW_AGE_H") or "72")
HEALTH_CHECK_RPC = env_bool("HEALTH_CHECK_RPC", default=True)
# /metrics: when set, scrapers must send "Authorization: Bearer <token>".
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# `manage.py runbot` serves its own /metrics here when set (0: off; see README).
BOT_METRICS_PORT = int(os.environ.get("BOT_METRICS_PORT") or "0")
BOT_METRICS_ADDR = os.environ.get("BOT_METRICS_ADDR") or "127.0.0.1"

# Every periodic job, in one place.
CELERY_BEAT_SCHEDULE = {
    "loans.refresh_lateness": {"task": "loans.refresh_lateness", "schedule": 600.0},
    "wallets.sync_chain": {"task": "wallets.sync_chain",
                           "schedule": float(os.environ.get("CHAIN_SYNC_SECONDS", "3"))},
    "wallets.expire_signing_requests": {"task": "wallets.expire_signing_requests",
                                        "schedule": 60.0},
    "wallets.settle_failed_transactions": {"task": "wallets.settle_failed_transactions",
                                           "schedule": 30.0},
    "wallets.reconcile": {"task": "wallets.reconcile", "schedule": crontab(hour=3, minute=0)},
    "scoring.rescore_all": {"task": "scoring.rescore_all",
                            "schedule": crontab(hour=2, minute=30)},
    "scoring.sign_attestations": {"task": "scoring.sign_attestations", "schedule": 300.0},
    "scoring.post_attestations": {"task": "scoring.post_attestations", "schedule": 60.0},
    "scoring.review_sla_alert": {"task": "scoring.review_sla_alert", "schedule": 900.0},
    "scoring.score_pending_applications": {"task": "scoring.score_pending_applications",
                                           "schedule": 30.0},
    "scoring.refresh_stale_wallet_signals": {"task": "scoring.refresh_stale_wallet_signals",
                                             "schedule": 600.0},
    "chat.prune_updates": {"task": "chat.prune_updates", "schedule": crontab(minute=40)},
    # Hourly from the given hour: the first run of the day sends, later ones find it done.
    "loans.send_reminders": {"task": "loans.send_reminders",
                             "schedule": crontab(minute=5, hour=f"{REMINDERS_HOUR_UTC}-23")},
    "loans.expire_listings": {"task": "loans.expire_listings", "schedule": KEEPER_SECONDS},
    "loans.mark_defaults": {"task": "loans.mark_defaults", "schedule": KEEPER_SECONDS},
    "notifications.admin_digest": {"task": "notifications.admin_digest",
                                   "schedule": crontab(minute=15, hour=f"{DIGEST_HOUR_UTC}-23")},
}

# --- Bot platform (bot/): see .env.example ---------------------------------------------------
# Webhook mode: Telegram sends this header with every update; anything else is refused.
TELEGRAM_WEBHOOK_SECRET = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
# Public https URL of /telegram/webhook/ for `manage.py setwebhook` (empty: polling mode).
TELEGRAM_WEBHOOK_URL = os.environ.get("TELEGRAM_WEBHOOK_URL", "")
# Telegram's limits: about 30 messages a second overall and one a second in each chat. The
# sender paces at 29: requests leave on their slot but arrive with network jitter, and at
# exactly 30 a few of them bunch into one second and draw 429s (bench/broadcast.py).
BOT_SEND_RATE_GLOBAL = float(os.environ.get("BOT_SEND_RATE_GLOBAL", "29"))
BOT_SEND_RATE_PER_CHAT = float(os.environ.get("BOT_SEND_RATE_PER_CHAT", "1"))
BOT_SEND_BURST_PER_CHAT = int(os.environ.get("BOT_SEND_BURST_PER_CHAT", "3"))
# Per-person flood limit: more than this many updates in the window get one polite warning.
BOT_FLOOD_MAX_UPDATES = int(os.environ.get("BOT_FLOOD_MAX_UPDATES", "20"))
BOT_FLOOD_WINDOW_S = float(os.environ.get("BOT_FLOOD_WINDOW_S", "10"))
# Threads (and so database connections) each bot process uses for its database work.
BOT_DB_THREADS = int(os.environ.get("BOT_DB_THREADS", "4"))
# A conversation left idle this long starts afresh.
CHAT_SESSION_TTL_S = int(os.environ.get("CHAT_SESSION_TTL_S", str(24 * 3600)))
# The local Bot API emulator and its web chat (the sandbox), used when no bot token is set.
SANDBOX_EMULATOR_URL = os.environ.get("SANDBOX_EMULATOR_URL") or "http://127.0.0.1:8081"

# --- Credit scoring (core/scoring/): see .env.example -------------------------------------
# Key that signs score attestations (EIP-712) and posts them. On the local anvil chain the
# default is anvil's account 2, public knowledge: DEV ONLY; elsewhere it must be set.
SCORER_PRIVATE_KEY = os.environ.get("SCORER_PRIVATE_KEY") or (
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
    if CHAIN_ID == 31337 else "")
# ScoreRegistry the attestations are for; empty: the one in onchain/addresses.json for CHAIN_ID.
SCORE_REGISTRY_ADDRESS = os.environ.get("SCORE_REGISTRY_ADDRESS", "")
# Post signed attestations to the ScoreRegistry (costs gas); off by default.
SCORE_POSTING = env_bool("SCORE_POSTING", default=False)
SCORE_POSTING_BATCH = int(os.environ.get("SCORE_POSTING_BATCH") or "100")
SCORE_ATTESTATION_TTL_DAYS = int(os.environ.get("SCORE_ATTESTATION_TTL_DAYS") or "30")
SCORE_CACHE_TTL_S = int(os.environ.get("SCORE_CACHE_TTL_S") or str(2 * 24 * 3600))
# Borrowers per chunk of the nightly rescoring.
SCORING_CHUNK = int(os.environ.get("SCORING_CHUNK") or "5000")
# Applications at or above this principal (base units) or this estimated PD (bps) go to review.
SCORING_REVIEW_AMOUNT = int(os.environ.get("SCORING_REVIEW_AMOUNT") or str(1_000 * 10**6))
SCORING_REVIEW_PD_BPS = int(os.environ.get("SCORING_REVIEW_PD_BPS") or "800")
# Applications still unscored after this many seconds are queued again by the periodic sweep
# (their task was lost, e.g. Redis was down when they were submitted).
SCORING_PENDING_AFTER_S = float(os.environ.get("SCORING_PENDING_AFTER_S") or "60")
# Wallet signals (a wallet's on-chain history, a scoring feature) older than this are read
# again by the beat's sweep, at most this many per run (every 10 minutes).
WALLET_SIGNAL_MAX_AGE_HOURS = int(os.environ.get("WALLET_SIGNAL_MAX_AGE_HOURS") or "24")
WALLET_SIGNAL_REFRESH_BATCH = int(os.environ.get("WALLET_SIGNAL_REFRESH_BATCH") or "100")
# Review items older than this alert the admins.
REVIEW_SLA_HOURS = int(os.environ.get("REVIEW_SLA_HOURS") or "24")
# Lock files of the serial nonce manager when there is no Redis (one host).
NONCE_LOCK_DIR = os.environ.get("NONCE_LOCK_DIR") or str(VAR_DIR / "nonces")
