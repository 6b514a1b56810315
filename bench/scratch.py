"""What every benchmark needs around it: a throwaway PostgreSQL database and free ports.

Each benchmark creates its own database on DATABASE_URL's server (named after itself and its
process, so runs side by side do not meet) and drops it at the end, whatever happened.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


def database_url(url: str, name: str, query: str | None = None) -> str:
    """`url` pointing at database `name` (its query string kept unless one is given)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name,
                       parts.query if query is None else query, ""))


def postgres_url_or_exit(script: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        print(f"bench/{script}.py measures against PostgreSQL: set DATABASE_URL=postgres://...")
        sys.exit(2)
    return url


@contextmanager
def scratch_database(url: str, script: str) -> Iterator[str]:
    """A new, empty database on `url`'s server for this run; yields its name."""
    import psycopg

    name = f"lendgram_bench_{script}_{os.getpid()}"
    admin = psycopg.connect(database_url(url, urlsplit(url).path.lstrip("/") or "postgres"),
                            autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
