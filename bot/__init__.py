"""The Telegram bot: handlers per journey over the core services, one rate-limited sender,
webhook and polling runners, and a local Bot API emulator with a web chat (the sandbox)."""

import os

# python-telegram-bot 22 is moving durations (RetryAfter.retry_after, ...) to timedelta; we
# handle both and opt in now, so the deprecation does not warn on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")
