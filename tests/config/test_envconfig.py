"""Settings from the environment."""

from pathlib import Path

import pytest

from config.envconfig import database_from_url, env_bool, env_int_list


def test_no_database_url_means_embedded_sqlite(tmp_path):
    db = database_from_url("", sqlite_path=tmp_path / "x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_postgres_url_is_parsed():
    db = database_from_url("postgres://u%40x:p%2Fw@db.example:6543/lend?conn_max_age=60")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u@x", "p/w", "db.example", "6543", "lend")
    assert db["CONN_MAX_AGE"] == 60 and db["CONN_HEALTH_CHECKS"]


def test_a_sqlite_url_is_parsed(tmp_path):
    db = database_from_url(f"sqlite:///{tmp_path}/a.db")
    assert Path(db["NAME"]) == tmp_path / "a.db"


def test_unknown_schemes_are_refused():
    with pytest.raises(ValueError, match="not supported"):
        database_from_url("mysql://x/y")


def test_booleans_and_lists(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG", default=False)
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError):
        env_bool("FLAG", default=False)
    monkeypatch.setenv("IDS", "1, 2,3")
    assert env_int_list("IDS") == [1, 2, 3]
    monkeypatch.setenv("IDS", "1,x")
    with pytest.raises(ValueError):
        env_int_list("IDS")


def test_every_variable_the_settings_read_is_documented_in_env_example():
    import re

    root = Path(__file__).resolve().parent.parent.parent
    reader = r"(?:os\.environ(?:\.get)?[\[(]|env_bool\(|env_int_list\()"
    read = {name for module in (root / "config" / "settings").glob("*.py")
            for name in re.findall(reader + r'"([A-Z][A-Z0-9_]+)"', module.read_text())}
    documented = set(re.findall(r"^#? *([A-Z][A-Z0-9_]+)=", (root / ".env.example").read_text(),
                                re.M))
    assert len(read) > 20
    assert read - documented == set()
