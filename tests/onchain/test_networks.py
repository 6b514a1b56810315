"""Network presets and how the environment picks a chain."""

import pytest

from onchain.networks import network_from_env


def test_nothing_set_means_the_local_anvil():
    network = network_from_env({})
    assert (network.chain_id, network.rpc_url, network.native_currency) == (
        31337, "http://127.0.0.1:8545", "ETH")


@pytest.mark.parametrize(("chain_id", "native_currency", "rpc"), [
    ("1449000", "XRP", "https://rpc.testnet.xrplevm.org"),
    ("1440000", "XRP", "https://rpc.xrplevm.org"),
])
def test_xrpl_evm_presets(chain_id, native_currency, rpc):
    network = network_from_env({"CHAIN_ID": chain_id})
    assert (network.native_currency, network.rpc_url) == (native_currency, rpc)
    assert network.confirmations > 0
    assert network.tx_url("0xab").endswith("/tx/0xab")


def test_the_rpc_url_overrides_a_preset_and_any_chain_works_with_one():
    assert network_from_env({"CHAIN_ID": "1440000", "RPC_URL": "http://node:8545"}).rpc_url == (
        "http://node:8545")
    custom = network_from_env({"CHAIN_ID": "777", "RPC_URL": "http://x:1"})
    assert (custom.chain_id, custom.rpc_url) == (777, "http://x:1")
    with pytest.raises(ValueError, match="RPC_URL"):
        network_from_env({"CHAIN_ID": "777"})
