"""Log lines without secrets, optionally as JSON (LOG_FORMAT=json).

`RedactSecrets` masks, in the message and its arguments: private keys and other 32-byte hex
secrets, Telegram bot tokens, signing-link tokens (`/s/<token>/`), bearer tokens, passwords in
URLs, secret-looking `key=value` pairs and phone numbers. It runs on the handler, so every
logger of the web, bot and worker processes goes through it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

MASK = "[redacted]"
_PATTERNS: list[tuple[re.Pattern, str]] = [
    # Telegram bot tokens: <bot id>:<35 characters>, also inside Bot API URLs, where the
    # token follows "bot" without a word boundary (httpx logs every request URL at INFO).
    (re.compile(r"(?:\b|(?<=bot))\d{6,12}:[A-Za-z0-9_-]{30,}"), MASK),
    # Passwords in URLs: scheme://user:password@host
    (re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@", re.I),
     r"\g<scheme>" + MASK + "@"),
    # Signing pages: /s/<one-time token>/ (the token is the authority to act).
    (re.compile(r"/s/[A-Za-z0-9_-]{16,}"), "/s/" + MASK),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1 " + MASK),
    # A seed phrase is many words: mask them all, not only the first one.
    (re.compile(r"(?P<k>\b(?:mnemonic|seed[_ -]?phrase)[\w-]*[\"']?\s*[:=]\s*[\"']?)"
                r"[a-z]+(?:\s+[a-z]+){11,23}", re.I), r"\g<k>" + MASK),
    # key=value / "key": "value" pairs whose name says secret.
    (re.compile(r"(?P<k>\b[\w-]*(?:secret|password|passwd|token|private_key|api_key|"
                r"privatekey|mnemonic|fernet|encryption_keys?)[\w-]*[\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"',;&}]+", re.I), r"\g<k>" + MASK),
    # Phone numbers in international form: +, then 7 to 15 digits, maybe with separators.
    (re.compile(r"(?<![\w+])\+\d(?:[ .()-]{0,2}\d){6,14}\b"), MASK),
    # ... and bare digits where the text says it is a phone (ids and amounts stay readable).
    (re.compile(r"(?P<k>\b(?:phone|tel|telephone|mobile|contact|msisdn)[\w-]*[\"']?\s*[:=]?\s*"
                r"[\"']?)\d(?:[ .()-]{0,2}\d){6,14}\b", re.I), r"\g<k>" + MASK),
]


# 32-byte hex secrets (private keys). Addresses (20 bytes) never match. A tx hash looks exactly
# like a key, so it stays readable only where its name says it is one (tx_hash=,
# "transactionHash": "...", HexBytes('...')) or in a /tx/ URL.
_HEX_SECRET = re.compile(
    r"(?P<name>\b[\w-]*hash[\w-]*[\"']?\s*[:=]?\s*(?:HexBytes\()?[\"']?)?"
    r"(?<![\w/])(?:0x)?[0-9a-fA-F]{64}\b(?![0-9a-fA-F])", re.I)


def _mask_hex(match: re.Match) -> str:
    return match.group(0) if match.group("name") else MASK


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _HEX_SECRET.sub(_mask_hex, text)


class RedactSecrets(logging.Filter):
    """Mask secrets and phone numbers in every record (message, arguments, exception)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what we have
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and is included.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, process, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else redact(
                    str(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)
