"""Chains Lendgram runs on, and how the environment picks one.

RPC_URL and CHAIN_ID choose the chain; a known chain id fills in the rest from its preset,
and any RPC URL + chain id pair works for chains without one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Network:
    chain_id: int
    name: str
    rpc_url: str
    native_currency: str
    explorer_url: str = ""
    # Blocks the indexer waits before applying a log; reorgs deeper than this are still
    # detected by block-hash checks and rolled back.
    confirmations: int = 0
    # Blocks per eth_getLogs call, within what public RPCs accept.
    log_batch_blocks: int = 2_000
    # Whether deployment may create the faucet token MockStable here (test chains only).
    mock_stable_allowed: bool = False

    def tx_url(self, tx_hash: str) -> str:
        return f"{self.explorer_url}/tx/{tx_hash}" if self.explorer_url else ""


ANVIL = Network(chain_id=31337, name="Anvil (local)", rpc_url="http://127.0.0.1:8545",
                native_currency="ETH", mock_stable_allowed=True)
XRPL_EVM_TESTNET = Network(chain_id=1449000, name="XRPL EVM Testnet",
                           rpc_url="https://rpc.testnet.xrplevm.org", native_currency="XRP",
                           explorer_url="https://explorer.testnet.xrplevm.org", confirmations=2,
                           mock_stable_allowed=True)
XRPL_EVM = Network(chain_id=1440000, name="XRPL EVM", rpc_url="https://rpc.xrplevm.org",
                   native_currency="XRP", explorer_url="https://explorer.xrplevm.org",
                   confirmations=5)

PRESETS: dict[int, Network] = {n.chain_id: n for n in (ANVIL, XRPL_EVM_TESTNET, XRPL_EVM)}


def network_from_env(environ: Mapping[str, str] | None = None) -> Network:
    """The configured chain: CHAIN_ID (default anvil's 31337) plus optional overrides."""
    environ = os.environ if environ is None else environ
    chain_id = int(environ.get("CHAIN_ID") or ANVIL.chain_id)
    preset = PRESETS.get(chain_id)
    rpc_url = environ.get("RPC_URL", "")
    if preset is None:
        if not rpc_url:
            raise ValueError(f"chain {chain_id} has no preset: set RPC_URL for it")
        preset = Network(chain_id=chain_id, name=f"Chain {chain_id}", rpc_url=rpc_url,
                         native_currency=environ.get("NATIVE_CURRENCY", "ETH"))
    overrides: dict = {}
    if rpc_url:
        overrides["rpc_url"] = rpc_url
    if environ.get("CHAIN_CONFIRMATIONS"):
        overrides["confirmations"] = int(environ["CHAIN_CONFIRMATIONS"])
    if environ.get("EXPLORER_URL"):
        overrides["explorer_url"] = environ["EXPLORER_URL"].rstrip("/")
    return replace(preset, **overrides)
