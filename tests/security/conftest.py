"""The attacks use the same real parts as the tests of what they attack: the Bot API emulator
and a started bot (tests/bot/conftest.py), Django's test client, the browser and anvil."""

from __future__ import annotations

import pytest

from tests.bot.conftest import (  # noqa: F401 (fixtures)
    compiled_catalogs,
    database_calls_on_the_test_connection,
    emulator,
    emulator_thread,
    run_bot,
)
from tests.web.conftest import signed_in  # noqa: F401 (a fixture)


@pytest.fixture
def chain_out_of_reach(settings):
    """Pages render with the node out of reach (as tests/web/conftest.py has it, but asked for
    by name: the tx-hash attack uses anvil)."""
    from django.core.cache import cache

    from core.common import chain as rpc

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "tests-security"}}
    cache.clear()
    settings.RPC_URL = "http://127.0.0.1:9"
    rpc._web3.cache_clear()
    yield
    rpc._web3.cache_clear()
