"""Fixtures borrowed from other test folders: the bot's emulator (the metrics tests drive a
real bot as tests/bot/ do) and disposable servers for a real Celery worker (tests/faults/)."""

from tests.bot.conftest import (  # noqa: F401
    compiled_catalogs,
    database_calls_on_the_test_connection,
    emulator,
    emulator_thread,
    run_bot,
)
from tests.faults.conftest import celery_broker, redis_server, shared_database  # noqa: F401
