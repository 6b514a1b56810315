"""The chain adapter's errors: core's own, so nothing above core catches web3's or onchain's."""

from __future__ import annotations

import pytest
import requests
from web3.exceptions import Web3RPCError

from core.common import chain
from core.signing.actions import contracts_paused
from onchain import contracts


def test_an_unknown_chain_raises_cores_deployment_missing(settings):
    settings.CHAIN_ID = 999_999

    with pytest.raises(chain.DeploymentMissing) as caught:
        chain.current_deployment()

    assert caught.value.code == "deployment_missing"
    assert isinstance(caught.value, contracts.DeploymentMissing)  # old callers keep working


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"), requests.Timeout(),
                                   Web3RPCError("overloaded"), ValueError("bad answer")])
def test_a_failed_read_raises_chain_unavailable(error):
    with pytest.raises(chain.ChainUnavailable) as caught, chain.chain_reads():
        raise error

    assert caught.value.code == "chain_unavailable"
    assert caught.value.__cause__ is error


def test_a_dead_node_makes_the_pause_state_chain_unavailable(settings):
    settings.RPC_URL = "http://127.0.0.1:9"  # nothing listens there
    chain._web3.cache_clear()
    try:
        with pytest.raises(chain.ChainUnavailable):
            contracts_paused()
    finally:
        chain._web3.cache_clear()


def test_chain_unavailable_is_retried_by_the_tasks():
    assert chain.ChainUnavailable in chain.TRANSIENT_RPC_ERRORS
    assert chain.DeploymentMissing not in chain.TRANSIENT_RPC_ERRORS
