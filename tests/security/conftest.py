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
from tests.web.conftest import node_out_of_reach, signed_in  # noqa: F401 (signed_in: a fixture)


@pytest.fixture
def chain_out_of_reach(settings):
    """Pages render with the node out of reach (as in tests/web/, but asked for by name: the
    tx-hash attack uses anvil)."""
    with node_out_of_reach(settings, "tests-security"):
        yield
