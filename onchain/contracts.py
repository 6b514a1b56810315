"""Lendgram's deployed contracts: ABIs from onchain/abi/, addresses from onchain/addresses.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

ONCHAIN_DIR = Path(__file__).resolve().parent
ABI_DIR = ONCHAIN_DIR / "abi"
ADDRESSES_FILE = ONCHAIN_DIR / "addresses.json"
CONTRACT_NAMES = ("MockStable", "ScoreRegistry", "LiquidityBackstopPool", "LoanBook")


class DeploymentMissing(RuntimeError):
    """No addresses are known for this chain: deploy first (make deploy-contracts)."""


@cache
def abi(name: str) -> list[dict]:
    return json.loads((ABI_DIR / f"{name}.json").read_text())


def load_addresses(chain_id: int, *, path: Path = ADDRESSES_FILE) -> dict[str, str]:
    data = json.loads(path.read_text()) if path.exists() else {}
    entry = data.get(str(chain_id))
    if not entry:
        raise DeploymentMissing(f"no Lendgram contracts known on chain {chain_id}")
    return entry


@dataclass(frozen=True)
class Deployment:
    """The addresses of one deployment; contract objects for encoding and calls."""

    chain_id: int
    loan_book: str
    pool: str
    score_registry: str
    stable: str
    deployed_block: int = 0

    @classmethod
    def for_chain(cls, chain_id: int, *, path: Path = ADDRESSES_FILE) -> Deployment:
        entry = load_addresses(chain_id, path=path)
        return cls(
            chain_id=chain_id,
            loan_book=to_checksum_address(entry["LoanBook"]),
            pool=to_checksum_address(entry["LiquidityBackstopPool"]),
            score_registry=to_checksum_address(entry["ScoreRegistry"]),
            stable=to_checksum_address(entry.get("MockStable") or entry["Stable"]),
            deployed_block=int(entry.get("deployed_block", 0)),
        )

    def contract(self, name: str, w3: Web3 | None = None) -> Contract:
        address = {"LoanBook": self.loan_book, "LiquidityBackstopPool": self.pool,
                   "ScoreRegistry": self.score_registry, "MockStable": self.stable}[name]
        return (w3 or _offline()).eth.contract(address=address, abi=abi(name))

    @property
    def indexed_addresses(self) -> list[str]:
        """Contracts whose logs the indexer follows."""
        return [self.loan_book, self.pool, self.score_registry]


@cache
def _offline() -> Web3:
    """A provider-less Web3: enough to encode calls and decode logs."""
    return Web3()
