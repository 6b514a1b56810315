"""Wallet facts read from the chain: how many transactions the wallet sent and when it
sent its first one (found by bisecting its nonce over block history)."""

from __future__ import annotations

from typing import Any


def wallet_activity(w3: Any, address: str) -> tuple[int, int | None]:
    """(transactions sent, unix time of the first one or None if it never sent any)."""
    head = w3.eth.block_number
    sent = w3.eth.get_transaction_count(address, head)
    if sent == 0:
        return 0, None
    low, high = 0, head  # the nonce is 0 before `low`... and > 0 at `high`
    if w3.eth.get_transaction_count(address, low) > 0:
        return sent, w3.eth.get_block(low)["timestamp"]
    while high - low > 1:
        middle = (low + high) // 2
        if w3.eth.get_transaction_count(address, middle) > 0:
            high = middle
        else:
            low = middle
    return sent, w3.eth.get_block(high)["timestamp"]
