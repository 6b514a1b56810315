"""The bot: Telegram, the webhook, the sender's pace, conversations and the sandbox."""

from __future__ import annotations

import os

from config.envconfig import env_int_list

TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
# The bot's @username (without @): share links are t.me/<username>?start=...
TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME", "LendgramBot").lstrip("@")
TELEGRAM_API_BASE_URL = os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
ADMIN_TELEGRAM_IDS = env_int_list("ADMIN_TELEGRAM_IDS")
# A channel (numeric id, e.g. -1001234567890, the bot an admin there) where new listings are
# announced; 0: none. Channel posts have no reader language, so they use this one.
LOANS_CHANNEL_ID = int(os.environ.get("LOANS_CHANNEL_ID") or "0")
LOANS_CHANNEL_LANGUAGE = os.environ.get("LOANS_CHANNEL_LANGUAGE") or "en"

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
