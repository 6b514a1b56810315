"""The platform's one serial nonce manager: every transaction the platform itself sends.

Attestation batches now, keeper calls later: all of them go through :class:`SerialSender`, which
for each transaction

1. takes an exclusive lock per (chain, sender address): :class:`FileNonceStore` (``fcntl.flock``,
   processes on one host) or :class:`RedisNonceStore` (a Redis lock, processes on many hosts);
2. uses the node's pending nonce, which counts the mempool: the lock is held across the send,
   so two processes never pick the same nonce. A recorded nonce above the node's count belongs
   to a transaction the node never kept (a reset chain, a dropped transaction); following the
   record there would leave a gap that stalls every later transaction, so the node wins;
3. signs with the platform key, sends, records the nonce, and only then releases the lock;
4. on "nonce too low" or a replacement error (someone else used the nonce, or a node whose
   pending view lags) records the nonce and tries again with max(pending, last used + 1).

Keys never reach a log or an exception message: errors carry the sender address only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from eth_utils import to_checksum_address
from web3.exceptions import Web3RPCError

_RESYNC_MARKERS = ("nonce too low", "replacement transaction underpriced", "already known",
                   "nonce has already been used", "known transaction")


class NonceError(RuntimeError):
    """Base of the sender's errors."""


class TransientSendError(NonceError):
    """The node did not answer or kept refusing our nonce: try again later."""


class PermanentSendError(NonceError):
    """The transaction itself is wrong (it reverts, or the node rejects it): do not retry."""


class NonceSlot(Protocol):
    last_used: int | None

    def record(self, nonce: int) -> None: ...


class NonceStore(Protocol):
    def locked(self) -> contextlib.AbstractContextManager[NonceSlot]:
        """Hold the sender's exclusive lock; the slot remembers the last nonce used."""


class _Slot:
    def __init__(self, last_used: int | None, save) -> None:
        self.last_used = last_used
        self._save = save

    def record(self, nonce: int) -> None:
        self.last_used = nonce
        self._save(nonce)


def _key(chain_id: int, address: str) -> str:
    return f"{chain_id}-{to_checksum_address(address)}"


class FileNonceStore:
    """One file per sender under `directory`, locked with flock: safe across processes of
    one host (the lock dies with its process, so a crash never leaves it held)."""

    def __init__(self, *, directory: str | Path, chain_id: int, address: str) -> None:
        self.path = Path(directory) / f"nonce-{_key(chain_id, address)}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[NonceSlot]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 4096, 0)
            last_used = json.loads(raw)["last_used"] if raw.strip() else None

            def save(nonce: int) -> None:
                data = json.dumps({"last_used": nonce}).encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, data, 0)
                os.fsync(fd)

            yield _Slot(last_used, save)
        finally:
            os.close(fd)  # closing the descriptor releases the flock


class RedisNonceStore:
    """A Redis lock plus the last nonce in Redis: safe across hosts sharing the Redis.

    The lock expires after `lock_ttl` seconds so a dead holder cannot block senders forever;
    the chain's pending nonce still protects the next holder if that ever happens.
    """

    def __init__(self, *, client: Any, chain_id: int, address: str, lock_ttl: float = 60.0,
                 wait: float = 30.0, prefix: str = "lendgram:nonce") -> None:
        self.client = client
        self.lock_name = f"{prefix}-lock:{_key(chain_id, address)}"
        self.value_key = f"{prefix}:{_key(chain_id, address)}"
        self.lock_ttl = lock_ttl
        self.wait = wait

    @contextlib.contextmanager
    def locked(self) -> Iterator[NonceSlot]:
        lock = self.client.lock(self.lock_name, timeout=self.lock_ttl,
                                blocking_timeout=self.wait)
        if not lock.acquire():
            raise TransientSendError(f"nonce lock {self.lock_name} is busy")
        try:
            raw = self.client.get(self.value_key)
            yield _Slot(int(raw) if raw is not None else None,
                        lambda nonce: self.client.set(self.value_key, nonce))
        finally:
            with contextlib.suppress(Exception):  # an expired lock is released already
                lock.release()


def _is_resync_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _RESYNC_MARKERS)


class SerialSender:
    """Sends the platform's transactions from one key, one nonce after another."""

    def __init__(self, *, w3: Any, private_key: str | bytes, store: NonceStore,
                 max_resyncs: int = 3, gas_margin_pct: int = 20) -> None:
        account = Account.from_key(private_key)
        self._account = account
        self.address = account.address
        self.w3 = w3
        self.store = store
        self.max_resyncs = max_resyncs
        self.gas_margin_pct = gas_margin_pct

    def __repr__(self) -> str:
        return f"SerialSender(address={self.address})"

    def send(self, tx: dict[str, Any]) -> str:
        """Sign and send `tx` (to, data, value, optional gas); returns the tx hash (0x hex).

        Does not wait for the receipt: callers record the hash and confirm later.
        """
        try:
            chain_id = self.w3.eth.chain_id
            base = {**tx, "from": self.address, "chainId": chain_id}
            if "gas" not in base:
                base["gas"] = self._estimate_gas(base)
            base.update(self._fees())
        except PermanentSendError:
            raise
        except Exception as exc:
            raise TransientSendError(f"node unavailable for {self.address}: {exc}") from exc
        with self.store.locked() as slot:
            for attempt in range(self.max_resyncs + 1):
                try:
                    pending = self.w3.eth.get_transaction_count(self.address, "pending")
                except Exception as exc:
                    raise TransientSendError(f"node unavailable: {exc}") from exc
                nonce = pending
                if attempt and slot.last_used is not None:
                    nonce = max(pending, slot.last_used + 1)
                signed = self._account.sign_transaction({**base, "nonce": nonce})
                try:
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except Exception as exc:
                    if _is_resync_error(exc) and attempt < self.max_resyncs:
                        # Our record is behind the chain (or the nonce was used elsewhere):
                        # skip past it and try the next one.
                        slot.record(nonce)
                        continue
                    if _is_resync_error(exc) or not isinstance(exc, Web3RPCError | ValueError):
                        raise TransientSendError(
                            f"{self.address}: not sent (try {attempt + 1}): {exc}") from exc
                    raise PermanentSendError(f"{self.address}: node refused the transaction: "
                                             f"{exc}") from exc
                slot.record(nonce)
                return tx_hash.to_0x_hex()
        raise TransientSendError(f"{self.address}: could not send")  # pragma: no cover

    def _estimate_gas(self, tx: dict[str, Any]) -> int:
        try:
            estimate = self.w3.eth.estimate_gas(tx)
        except Exception as exc:
            if "revert" in str(exc).lower():
                raise PermanentSendError(f"{self.address}: the call reverts: {exc}") from exc
            raise
        return estimate * (100 + self.gas_margin_pct) // 100

    def _fees(self) -> dict[str, int]:
        block = self.w3.eth.get_block("latest")
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": self.w3.eth.gas_price}
        priority = self.w3.eth.max_priority_fee
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * base_fee + priority}

    def wait(self, tx_hash: str, *, timeout: float = 120.0) -> dict[str, Any]:
        """The receipt of a sent transaction (retrying while the node has not seen it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout))
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise TransientSendError(f"no receipt for {tx_hash}: {exc}") from exc
                time.sleep(0.2)
