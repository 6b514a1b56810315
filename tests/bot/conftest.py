from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from bot.sandbox.emulator import EmulatorThread
from tests.bot.harness import TOKEN, Chat, start_runtime


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """`make setup` compiles the catalogs; a bare pytest run does it here when they are stale."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from django.conf import settings

    for po in settings.LOCALE_PATHS[0].glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


@pytest.fixture(autouse=True)
def database_calls_on_the_test_connection():
    """The bot's database calls run on the test's connection, inside its transaction."""
    from bot import dbcall

    dbcall.configure(threads=0)
    yield
    dbcall.configure(threads=None)


@pytest.fixture(scope="session")
def emulator_thread():
    emulator = EmulatorThread(token=TOKEN, poll_wait_cap_s=0.2).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(emulator_thread):
    """A clean emulator for each test (one server for the session: starting is the slow part)."""
    from bot.sandbox.emulator import EmulatorState

    def reset(emu):
        emu.state = EmulatorState(token=TOKEN)

    emulator_thread.call(reset, emulator_thread.emulator)
    return emulator_thread


@pytest.fixture
def run_bot(db, emulator):
    """Run `scenario(chat)` against a fresh bot runtime, on one event loop.

    Tests are sync and run their async body through async_to_sync, so the bot's database
    calls use the test's connection and its transaction is rolled back afterwards.
    """

    def run(scenario, **runtime_options):
        async def body():
            runtime = await start_runtime(emulator, **runtime_options)
            try:
                return await scenario(Chat(emulator, runtime))
            finally:
                await runtime.stop()

        return async_to_sync(body)()

    return run
