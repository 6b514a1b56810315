"""Operations: logs (redacted), /health thresholds and /metrics."""

from __future__ import annotations

import os

from config.envconfig import env_bool

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
    "loggers": {**{name: {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"),
                          "propagate": False} for name in ("django", "django.server")},
                # django-axes announces its version at every start; lockouts still log (WARNING).
                "axes.apps": {"level": "WARNING"}},
}
# Celery workers log through the handler above (JSON, redacted) instead of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

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
