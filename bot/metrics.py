"""Prometheus metrics of the bot: updates handled and how long they took, Bot API requests and
messages by outcome, outbox deliveries by outcome.

Hooks: `MeteredSender` (the application's rate limiter, bot/app.py) sees every Bot API
attempt; the dispatcher reports each handled update; bot/outbox.py each settled message. The
figures reach Prometheus through `/metrics` of the web process when the bot runs there
(webhook mode) or shares PROMETHEUS_MULTIPROC_DIR with it, or through `manage.py runbot`'s own
endpoint on BOT_METRICS_PORT (see core/ops/metrics.py and the README).
"""

from __future__ import annotations

import logging

from django.conf import settings
from prometheus_client import Counter, Histogram, start_http_server
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.sender import LIMITED_METHODS, Sender

log = logging.getLogger(__name__)

UPDATES = Counter("lendgram_bot_updates_handled_total", "Updates the bot has handled.")
HANDLER_SECONDS = Histogram(
    "lendgram_bot_handler_seconds", "Time to handle one update, all its handlers together.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
API_REQUESTS = Counter("lendgram_bot_api_requests_total",
                       "Bot API request attempts by method and outcome "
                       "(ok, throttled, refused, network_error, error).", ["method", "outcome"])
MESSAGES = Counter("lendgram_bot_messages_total",
                   "Message-sending attempts (sendMessage, sendPhoto, edits, ...) by outcome: "
                   "sent, throttled (429) or failed.", ["outcome"])
OUTBOX = Counter("lendgram_outbox_deliveries_total",
                 "Outbox messages settled by this process: sent, retry (later) or failed.",
                 ["outcome"])
_MESSAGE_OUTCOME = {"ok": "sent", "throttled": "throttled"}


def update_handled(seconds: float) -> None:
    UPDATES.inc()
    HANDLER_SECONDS.observe(seconds)


def outbox_settled(outcome: str) -> None:
    OUTBOX.labels(outcome=outcome).inc()


def _outcome(error: Exception | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, RetryAfter):
        return "throttled"
    if isinstance(error, Forbidden | BadRequest):
        return "refused"
    if isinstance(error, NetworkError):
        return "network_error"
    return "error"


def _record(endpoint: str, error: Exception | None) -> None:
    outcome = _outcome(error)
    API_REQUESTS.labels(method=endpoint, outcome=outcome).inc()
    if endpoint in LIMITED_METHODS:
        MESSAGES.labels(outcome=_MESSAGE_OUTCOME.get(outcome, "failed")).inc()


class MeteredSender(Sender):
    """The one sender, counting every attempt it makes (retries included) by outcome."""

    async def process_request(self, callback, args, kwargs, endpoint: str, data: dict,
                              rate_limit_args: dict | None):
        async def metered(*call_args, **call_kwargs):
            try:
                result = await callback(*call_args, **call_kwargs)
            except TelegramError as error:
                _record(endpoint, error)
                raise
            _record(endpoint, None)
            return result

        return await super().process_request(metered, args, kwargs, endpoint, data,
                                             rate_limit_args)


def serve_bot_metrics() -> bool:
    """Serve this process's metrics on BOT_METRICS_PORT (a bot running on its own)."""
    if not settings.BOT_METRICS_PORT:
        return False
    start_http_server(settings.BOT_METRICS_PORT, addr=settings.BOT_METRICS_ADDR)
    log.info("bot metrics on http://%s:%s/metrics", settings.BOT_METRICS_ADDR,
             settings.BOT_METRICS_PORT)
    return True
