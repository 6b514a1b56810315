"""Parsing of environment variables for settings (kept out of settings.py so it is testable)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_int_list(name: str) -> list[int]:
    try:
        return [int(item) for item in env_list(name)]
    except ValueError as exc:
        raise ValueError(f"{name} must be a comma-separated list of integers") from exc


def database_from_url(url: str, *, sqlite_path: Path | None = None) -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry; empty means the embedded SQLite."""
    if not url:
        if sqlite_path is None:
            raise ValueError("no DATABASE_URL and no SQLite path")
        return _sqlite(sqlite_path)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:////absolute/path or sqlite:///relative/path
        return _sqlite(Path(unquote(parts.path[1:] if parts.path.startswith("//") else parts.path)))
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ValueError(f"DATABASE_URL scheme {parts.scheme!r} is not supported")
    options = dict(parse_qsl(parts.query))
    conn_max_age = int(options.pop("conn_max_age", "0"))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": conn_max_age > 0,
        "OPTIONS": options,
    }


def _sqlite(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Web, bot and worker share the file: without these, writers see "database is locked".
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
