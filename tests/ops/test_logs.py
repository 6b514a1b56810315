"""Log lines never carry secrets or phone numbers, while addresses, tx hashes, ids and amounts
stay readable; LOG_FORMAT=json writes one JSON object a line."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.ops.logs import MASK, JsonFormatter, RedactSecrets, redact

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TX_HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
SIGNING_TOKEN = "AbCdEfGhIjKlMnOpQrStUv12"


M = MASK


@pytest.mark.parametrize(("line", "expected"), [
    (f"bot token {BOT_TOKEN} loaded", f"bot token {M} loaded"),
    (f"HTTP Request: POST https://api.telegram.org/bot{BOT_TOKEN}/getUpdates",
     f"HTTP Request: POST https://api.telegram.org/bot{M}/getUpdates"),
    (f"loaded key {KEY}", f"loaded key {M}"),
    (f"loaded key {KEY[2:]}", f"loaded key {M}"),
    (f"private_key={KEY}", f"private_key={M}"),
    (f'{{"UNDERWRITER_PRIVATE_KEY": "{KEY}"}}', f'{{"UNDERWRITER_PRIVATE_KEY": "{M}"}}'),
    (f"open http://127.0.0.1:8000/s/{SIGNING_TOKEN}/ to sign",
     f"open http://127.0.0.1:8000/s/{M}/ to sign"),
    ("connecting to postgres://lendgram:s3cr3t-Pass@db.internal:5432/lendgram",
     f"connecting to postgres://lendgram:{M}@db.internal:5432/lendgram"),
    ("DATABASE_URL=postgresql://lendgram:s3cr3t-Pass@db/lendgram",
     f"DATABASE_URL=postgresql://lendgram:{M}@db/lendgram"),
    ("broker redis://:r3dis-pass@127.0.0.1:6379/0", f"broker redis://:{M}@127.0.0.1:6379/0"),
    ("contact +55 11 98765-4321 tomorrow", f"contact {M} tomorrow"),
    ("contact +1 (415) 555-0100 tomorrow", f"contact {M} tomorrow"),
    ("call +5511987654321 tomorrow", f"call {M} tomorrow"),
    ("saved phone=5511987654321 for user 1001", f"saved phone={M} for user 1001"),
    ("{'phone_number': '4155550100'}", f"{{'phone_number': '{M}'}}"),
    ("Authorization: Bearer eyJhbGciOi.J9xyz_abc", f"Authorization: Bearer {M}"),
    ("webhook secret_token=Zx8-q1w2e3r4 set", f"webhook secret_token={M} set"),
    ("mnemonic: test test test test test test test test test test test junk", f"mnemonic: {M}"),
])
def test_a_secret_is_masked_and_the_rest_of_the_line_kept(line, expected):
    assert redact(line) == expected


@pytest.mark.parametrize("line", [
    f"wallet {ADDRESS} linked",
    f"tx_hash={TX_HASH}",
    f"tx_hash='{TX_HASH}'",
    f'{{"transactionHash": "{TX_HASH}"}}',
    f"'blockHash': HexBytes('{TX_HASH}')",
    f"see https://explorer.testnet.xrplevm.org/tx/{TX_HASH}",
    "loan 12345 funded with 300000000 base units by user 5000001 at block 12345678",
    "at 2024-01-15 10:00:00.123 took 0.25 s",
    "telegram_id=1001 chat_id=-1001234567890",
])
def test_public_facts_stay_readable(line):
    assert redact(line) == line


def test_a_tx_hash_not_named_as_one_is_masked_since_it_looks_like_a_key():
    assert redact(f"tx {TX_HASH}") == f"tx {MASK}"


def record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    logger = logging.getLogger("lendgram.test")
    return logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, args,
                             exc_info, extra=extra or None)


def test_the_filter_masks_arguments_and_exception_text_too():
    try:
        raise ConnectionError(f"cannot reach postgres://u:hunter2pw@db/x with key {KEY}")
    except ConnectionError:
        entry = record("user %s phone %s", 1001, "+5511987654321", exc_info=sys.exc_info())
    assert RedactSecrets().filter(entry) is True, "masking never drops a line"
    assert entry.getMessage() == f"user 1001 phone {MASK}"
    assert "hunter2pw" not in entry.exc_text and KEY not in entry.exc_text
    assert "ConnectionError" in entry.exc_text and "Traceback" in entry.exc_text


def test_a_broken_format_string_is_logged_as_written():
    entry = record("%d loans for %s", "not a number")
    RedactSecrets().filter(entry)
    assert entry.getMessage() == "%d loans for %s"


def logged(*records: logging.LogRecord) -> list[dict]:
    """Records written through a handler set up as the configured one is."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(JsonFormatter())
    for entry in records:
        handler.handle(entry)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(records), "one line a record, even with a multi-line traceback"
    return [json.loads(line) for line in lines]


def test_the_json_formatter_writes_one_object_a_line_with_extras_masked():
    try:
        raise ValueError(f"bad key {KEY}\nsecond line")
    except ValueError:
        failed = record("sending to %s failed", "+5511987654321", exc_info=sys.exc_info(),
                        loan_id=42, amount=1.5, url="postgres://u:hunter2pw@db/x",
                        note=f"tx_hash={TX_HASH}")
    first, second = logged(record("loan %s funded", 7, loan_id=7, retried=False), failed)
    assert first["message"] == "loan 7 funded" and first["level"] == "WARNING"
    assert first["logger"] == "lendgram.test" and first["process"] == os.getpid()
    assert first["loan_id"] == 7 and first["retried"] is False
    assert first["time"].endswith("+00:00")
    assert "exception" not in first
    assert second["message"] == f"sending to {MASK} failed"
    assert second["loan_id"] == 42 and second["amount"] == 1.5
    assert second["url"] == f"postgres://u:{MASK}@db/x"
    assert second["note"] == f"tx_hash={TX_HASH}"
    assert "ValueError: bad key" in second["exception"] and "second line" in second["exception"]
    assert KEY not in second["exception"]


LOGGING_CHILD = textwrap.dedent("""
    import logging
    import django
    django.setup()
    logging.getLogger("core.loans").warning(
        "borrower phone %s saved; key %s", "+5511987654321", "{key}", extra={{"loan_id": 9}})
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot{token}/x")
    logging.getLogger("django.request").error("Internal Server Error: /s/{signing}/")
    try:
        raise RuntimeError("cannot connect to postgres://u:hunter2pw@db/x")
    except RuntimeError:
        logging.getLogger("celery.app.trace").exception("task failed")
""")


def test_the_configured_logging_writes_redacted_json_from_real_loggers(tmp_path):
    code = LOGGING_CHILD.format(key=KEY, token=BOT_TOKEN, signing=SIGNING_TOKEN)
    env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
           "DJANGO_SETTINGS_MODULE": "config.settings", "LENDGRAM_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    for secret in ("5511987654321", KEY, BOT_TOKEN, SIGNING_TOKEN, "hunter2pw"):
        assert secret not in output
    entries = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert len(entries) == 4
    by_logger = {entry["logger"]: entry for entry in entries}
    assert set(by_logger) == {"core.loans", "httpx", "django.request", "celery.app.trace"}, \
        "each record written once, by the redacting handler"
    assert by_logger["core.loans"]["message"] == f"borrower phone {MASK} saved; key {MASK}"
    assert by_logger["core.loans"]["loan_id"] == 9
    assert by_logger["httpx"]["message"].endswith(f"/bot{MASK}/x")
    assert by_logger["django.request"]["message"] == f"Internal Server Error: /s/{MASK}/"
    assert "RuntimeError" in by_logger["celery.app.trace"]["exception"]
