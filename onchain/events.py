"""Reading the contracts' logs and decoding them into typed events."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3 import Web3
from web3._utils.events import get_event_data

from onchain.contracts import Deployment, abi


@dataclass(frozen=True)
class ChainEvent:
    name: str
    contract: str  # LoanBook, LiquidityBackstopPool, ScoreRegistry
    args: dict
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str = field(default="")

    @property
    def key(self) -> str:
        """Unique per log: the idempotency key of everything applied from it."""
        return f"{self.tx_hash}:{self.log_index}"


class LogDecoder:
    """Decodes raw logs of one deployment; logs of unknown events are skipped, not errors."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._names = {deployment.loan_book: "LoanBook", deployment.pool: "LiquidityBackstopPool",
                       deployment.score_registry: "ScoreRegistry"}
        self._codec = Web3().codec

    @cached_property
    def _events(self) -> dict[tuple[str, bytes], dict]:
        table = {}
        for address, name in self._names.items():
            for entry in abi(name):
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    table[(address, event_abi_to_log_topic(entry))] = entry
        return table

    def decode(self, log: dict) -> ChainEvent | None:
        address = to_checksum_address(log["address"])
        topics = log["topics"]
        if not topics:
            return None
        event_abi = self._events.get((address, bytes(topics[0])))
        if event_abi is None:
            return None
        data = get_event_data(self._codec, event_abi, log)
        return ChainEvent(
            name=data["event"], contract=self._names[address], args=dict(data["args"]),
            block_number=int(log["blockNumber"]), block_hash=Web3.to_hex(log["blockHash"]),
            tx_hash=Web3.to_hex(log["transactionHash"]), log_index=int(log["logIndex"]),
            address=address)


def fetch_events(w3: Web3, decoder: LogDecoder, *, from_block: int, to_block: int
                 ) -> list[ChainEvent]:
    """Every decodable log of the deployment in [from_block, to_block], in chain order."""
    logs = w3.eth.get_logs({"fromBlock": from_block, "toBlock": to_block,
                            "address": decoder.deployment.indexed_addresses})
    events = [decoder.decode(log) for log in logs]
    return sorted((e for e in events if e is not None),
                  key=lambda e: (e.block_number, e.log_index))
