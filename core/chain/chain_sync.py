"""The chain indexer: read the contracts' logs in bounded batches, store each once, apply it.

It reads from the cursor up to head - confirmations. Before each batch it checks that the
last processed block is still on the canonical chain; if the chain replaced it (a reorg
deeper than the confirmations), it finds the last stored block still canonical, undoes every
applied log above it (newest first: reversing ledger entries, states taken back), forgets
those logs and reads the canonical chain again from there.
RPC failures propagate to the Celery task, which retries with backoff: the cursor only moves
after a batch is stored and applied in one database transaction, so no event is skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from web3 import Web3
from web3.exceptions import BlockNotFound

from core.chain.chain_apply import chain_log_undo, chain_logs_apply
from core.chain.models import ChainBlock, ChainCursor, ChainLog
from core.common.bulk import copy_insert
from core.signing.models import SigningStatus, SubmittedTransaction
from core.signing.services import signing_requests_confirm_tx, signing_requests_unconfirm_tx
from onchain.contracts import Deployment
from onchain.events import ChainEvent, LogDecoder, fetch_events

log = logging.getLogger(__name__)
KEEP_BLOCK_HASHES = 256


class ChainReorganised(RuntimeError):
    """The chain replaced more blocks than the indexer keeps hashes of: an operator decides."""


@dataclass
class SyncResult:
    from_block: int
    to_block: int
    logs: int
    applied: int
    rolled_back: int = 0


def _hex(value) -> str:
    return Web3.to_hex(value)


def _is_canonical(w3: Web3, block: ChainBlock) -> bool:
    try:
        return _hex(w3.eth.get_block(block.number)["hash"]) == block.hash
    except BlockNotFound:  # the new chain is shorter than what we had read
        return False


def _fork_point(w3: Web3, chain_id: int, cursor: ChainCursor) -> int | None:
    """None while the last processed block is canonical; else the newest stored block that
    still is (every block below it is then canonical too: each hash commits to its parent)."""
    stored = ChainBlock.objects.filter(chain_id=chain_id, number__lt=cursor.next_block)
    last = stored.order_by("-number").first()
    if last is None or _is_canonical(w3, last):
        return None
    for block in stored.filter(number__lt=last.number).order_by("-number"):
        if _is_canonical(w3, block):
            return block.number
    oldest = stored.order_by("number").first().number
    raise ChainReorganised(f"chain {chain_id} replaced every block since {oldest}: "
                           "re-index from a known block")


def chain_rollback(*, chain_id: int, cursor: ChainCursor, fork_block: int) -> int:
    """Undo and forget everything indexed above fork_block; returns how many logs."""
    reverted = list(ChainLog.objects.filter(chain_id=chain_id, block_number__gt=fork_block)
                    .order_by("-block_number", "-log_index"))
    for entry in reverted:
        chain_log_undo(entry=entry)
    for tx_hash in {entry.tx_hash for entry in reverted}:
        signing_requests_unconfirm_tx(tx_hash=tx_hash)
    ChainLog.objects.filter(pk__in=[entry.pk for entry in reverted]).delete()
    ChainBlock.objects.filter(chain_id=chain_id, number__gt=fork_block).delete()
    cursor.next_block = fork_block + 1
    cursor.save(update_fields=["next_block", "updated_at"])
    log.warning("chain %s reorganised above block %s: %s logs taken back", chain_id,
                fork_block, len(reverted))
    return len(reverted)


def _store(chain_id: int, events: list[ChainEvent], times: dict[int, datetime]) -> list[ChainLog]:
    """Each log once, in chain order; a few queries per batch, not per log."""
    if not events:
        return []
    in_batch = ChainLog.objects.filter(chain_id=chain_id,
                                       tx_hash__in={event.tx_hash.lower() for event in events})
    copy_insert(
        ChainLog,
        [ChainLog(chain_id=chain_id, tx_hash=event.tx_hash.lower(), log_index=event.log_index,
                  block_number=event.block_number, block_hash=event.block_hash,
                  block_time=times[event.block_number], contract=event.contract,
                  name=event.name, args=_jsonable(event.args))
         for event in events],
        skip_conflicts=True)  # a log stored before stays as it was
    stored = {(entry.tx_hash, entry.log_index): entry for entry in in_batch}
    return [stored[(event.tx_hash.lower(), event.log_index)] for event in events]


def _jsonable(args: dict) -> dict:
    """Event args as JSON: ints stay ints (Python's JSON has no size limit), bytes as hex."""
    return {key: (_hex(value) if isinstance(value, bytes | bytearray) else value)
            for key, value in args.items()}


def _awaited_tx_hashes(tx_hashes) -> list[str]:
    """The hashes some submitted signing request waits for, in one query for the batch."""
    hashes = list(dict.fromkeys(tx_hashes))
    awaited = set(SubmittedTransaction.objects.filter(
        tx_hash__in=hashes, request__status=SigningStatus.SUBMITTED)
        .values_list("tx_hash", flat=True))
    return [tx_hash for tx_hash in hashes if tx_hash in awaited]


def chain_sync(*, w3: Web3, deployment: Deployment, confirmations: int, batch_blocks: int,
               max_batches: int = 20) -> SyncResult:
    """Index up to max_batches batches; returns what was read. Safe to run concurrently:
    the cursor row is locked for the duration of each batch."""
    chain_id = deployment.chain_id
    decoder = LogDecoder(deployment)
    ChainCursor.objects.get_or_create(chain_id=chain_id,
                                      defaults={"next_block": deployment.deployed_block})
    head = w3.eth.block_number - confirmations
    result = None
    rolled_back = 0
    for _ in range(max_batches):
        with transaction.atomic():
            cursor = ChainCursor.objects.select_for_update().get(chain_id=chain_id)
            fork = _fork_point(w3, chain_id, cursor)
            if fork is not None:
                rolled_back += chain_rollback(chain_id=chain_id, cursor=cursor, fork_block=fork)
            start = cursor.next_block
            if start > head:
                break
            end = min(head, start + batch_blocks - 1)
            events = fetch_events(w3, decoder, from_block=start, to_block=end)
            blocks = {n: w3.eth.get_block(n) for n in {e.block_number for e in events} | {end}}
            times = {n: datetime.fromtimestamp(b["timestamp"], tz=UTC) for n, b in blocks.items()}
            entries = _store(chain_id, events, times)
            applied = chain_logs_apply(entries=entries)
            for tx_hash in _awaited_tx_hashes(entry.tx_hash for entry in entries):
                signing_requests_confirm_tx(tx_hash=tx_hash, success=True,
                                            sender=w3.eth.get_transaction(tx_hash)["from"])
            ChainBlock.objects.bulk_create(
                [ChainBlock(chain_id=chain_id, number=n, hash=_hex(b["hash"]))
                 for n, b in blocks.items()], ignore_conflicts=True)
            ChainBlock.objects.filter(chain_id=chain_id,
                                      number__lt=end - KEEP_BLOCK_HASHES).delete()
            cursor.next_block = end + 1
            cursor.save(update_fields=["next_block", "updated_at"])
        if result is None:
            result = SyncResult(from_block=start, to_block=end, logs=0, applied=0)
        result.to_block, result.logs = end, result.logs + len(entries)
        result.applied += applied
    result = result or SyncResult(from_block=head + 1, to_block=head, logs=0, applied=0)
    result.rolled_back = rolled_back
    return result
