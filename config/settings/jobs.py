"""Celery: the broker (Redis, or a file-system transport with no server) and every periodic job."""

from __future__ import annotations

import os

from celery.schedules import crontab

from config.envconfig import env_bool
from config.settings.base import TIME_ZONE, VAR_DIR
from config.settings.storage import REDIS_URL

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

KEEPER_SECONDS = float(os.environ.get("KEEPER_SECONDS") or "300")
# Reminders go out from this UTC hour on (hourly runs after it catch a missed one).
REMINDERS_HOUR_UTC = int(os.environ.get("REMINDERS_HOUR_UTC") or "8")
DIGEST_HOUR_UTC = int(os.environ.get("DIGEST_HOUR_UTC") or "6")

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
    # Identity documents past KYC_DOCUMENT_RETENTION_DAYS after their decision are deleted.
    "kyc.purge_documents": {"task": "kyc.purge_documents",
                            "schedule": crontab(hour=4, minute=20)},
    "ops.admin_digest": {"task": "ops.admin_digest",
                         "schedule": crontab(minute=15, hour=f"{DIGEST_HOUR_UTC}-23")},
}
