"""Reconciliation: the loan mirror and the ledger compared with the contracts' own state.

The chain is read as of the last block the indexer applied (cursor - 1), not the head, so
activity that is merely not indexed yet is never reported. Loans are read in keyset batches
and each batch's eth_calls go out as JSON-RPC batches: memory stays bounded however many loans
there are. A batch is redone when the indexer moved the cursor while it was being read, so the
database side and the chain side always describe the same block.

Any difference queues one alert per admin, deduplicated per day and per set of differences:
the same mismatch found by every run of the day alerts once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from django.db.models import Prefetch, Sum
from django.utils import timezone
from web3 import Web3

from core.chain.models import ChainCursor, ReconciliationRun
from core.ledger.models import AccountKind, Posting
from core.loans.models import FundingPosition, Loan
from core.loans.states import LoanState
from core.notifications.services import notify_admins
from onchain.contracts import Deployment, abi

log = logging.getLogger(__name__)
S = LoanState

# LoanBook.LoanState, by enum value.
# Field names of LoanBook.getLoan's struct, from the ABI.
_LOAN_FIELDS = tuple(component["name"] for entry in abi("LoanBook")
                     if entry.get("name") == "getLoan"
                     for component in entry["outputs"][0]["components"])
CHAIN_STATES = ("None", "Funding", "Funded", "Active", "Repaid", "Cancelled", "Expired",
                "Defaulted")
# The off-chain states each chain state allows: listed/late are finer-grained views of it.
MIRRORED_STATES = {
    "None": frozenset(),
    "Funding": frozenset({S.LISTED, S.FUNDING}),
    "Funded": frozenset({S.FUNDED}),
    "Active": frozenset({S.ACTIVE, S.LATE}),
    "Repaid": frozenset({S.REPAID}),
    "Cancelled": frozenset({S.CANCELLED}),
    "Expired": frozenset({S.EXPIRED}),
    "Defaulted": frozenset({S.DEFAULTED}),
}
PRE_CHAIN = frozenset({S.DRAFT, S.SUBMITTED, S.SCORED, S.REJECTED, S.IN_REVIEW, S.APPROVED})
HOLDS_FUNDING = frozenset({"Funding", "Funded"})
REFUNDABLE = frozenset({"Cancelled", "Expired"})

BATCH_LOANS = 200
RPC_BATCH_CALLS = 500  # providers cap JSON-RPC batch sizes; 500 is below the usual limits
MAX_STORED_DIFFERENCES = 2_000  # a run's row stays small even if everything differs
ALERT_EXAMPLES = 5
CURSOR_RETRIES = 5


@dataclass(frozen=True)
class Difference:
    loan_id: int
    chain_loan_id: int
    field: str  # state, funded, repaid, distributed, covered, escrow, position_funded, ...
    ledger: int | str
    chain: int | str
    lender_id: int | None = None  # TelegramUser pk, for per-lender fields

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ReconciliationReport:
    run: ReconciliationRun
    block_number: int
    loans_checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    differences_count: int = 0
    digest: str = ""
    alerts_queued: int = 0

    @property
    def ok(self) -> bool:
        return self.differences_count == 0


def _indexed_block(w3: Web3, chain_id: int) -> int:
    """The last block whose logs the indexer has applied (the head if it never ran)."""
    head = w3.eth.block_number
    next_block = (ChainCursor.objects.filter(chain_id=chain_id)
                  .values_list("next_block", flat=True).first())
    return head if next_block is None else min(next_block - 1, head)


def _call_many(w3: Web3, calls: list, block: int) -> list:
    results = []
    for start in range(0, len(calls), RPC_BATCH_CALLS):
        with w3.batch_requests() as batch:
            for call in calls[start:start + RPC_BATCH_CALLS]:
                batch.add(call.call(block_identifier=block))
            results.extend(batch.execute())
    return results


def _with_positions(loans):
    return loans.order_by("pk").prefetch_related(
        Prefetch("positions", queryset=FundingPosition.objects.select_related("lender")
                 .order_by("pk")))


def _loan_batches(batch_size: int) -> Iterator[list[Loan]]:
    """Loans listed on chain, in pk order, `batch_size` at a time with their positions."""
    loans = _with_positions(Loan.objects.filter(chain_loan_id__isnull=False)
                            .exclude(state__in=PRE_CHAIN))
    last_pk = 0
    while True:
        batch = list(loans.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            return
        yield batch
        last_pk = batch[-1].pk


def _reload(batch: list[Loan]) -> list[Loan]:
    return list(_with_positions(Loan.objects.filter(pk__in=[loan.pk for loan in batch])))


def _ledger_balances(batch: list[Loan]) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """Lenders' claimable balances by (loan, user) and escrow balances by loan, in two queries."""
    ids = [loan.pk for loan in batch]
    claimable = {
        (loan_id, user_id): total for loan_id, user_id, total in
        Posting.objects.filter(account__kind=AccountKind.LENDER_CLAIMABLE,
                               account__loan_id__in=ids)
        .values_list("account__loan_id", "account__user_id").annotate(total=Sum("amount"))
        .order_by()}
    escrow = dict(Posting.objects.filter(account__kind=AccountKind.LOAN_ESCROW,
                                         account__loan_id__in=ids)
                  .values_list("account__loan_id").annotate(total=Sum("amount")).order_by())
    return claimable, escrow


def _read_consistent(w3: Web3, chain_id: int, batch: list[Loan], *, first: bool):
    """The batch's database side and the block it mirrors, re-read until the indexer did not
    commit in between (its cursor and the domain move in one transaction)."""
    for _ in range(CURSOR_RETRIES):
        block = _indexed_block(w3, chain_id)
        loans = batch if first else _reload(batch)
        claimable, escrow = _ledger_balances(loans)
        if _indexed_block(w3, chain_id) == block:
            return block, loans, claimable, escrow
        first = False
    raise RuntimeError("the indexer kept moving while reconciliation read a batch; retry later")


def _check_batch(w3: Web3, loan_book, chain_id: int, batch: list[Loan]
                 ) -> tuple[int, list[Difference]]:
    block, loans, ledger_claimable, ledger_escrow = _read_consistent(w3, chain_id, batch,
                                                                     first=True)
    calls = []
    for loan in loans:
        calls += [loan_book.functions.getLoan(loan.chain_loan_id),
                  loan_book.functions.distributed(loan.chain_loan_id)]
        for position in _positions(loan):
            wallet = Web3.to_checksum_address(position.lender.wallet_address)
            calls += [loan_book.functions.positionOf(loan.chain_loan_id, wallet),
                      loan_book.functions.claimable(loan.chain_loan_id, wallet)]
    results = iter(_call_many(w3, calls, block))

    differences = []
    for loan in loans:
        on_chain, distributed = dict(zip(_LOAN_FIELDS, next(results), strict=True)), next(results)
        chain_state = CHAIN_STATES[on_chain["state"]]
        chain_funded = on_chain["funded"]
        found = [("state", loan.state, chain_state)] if (
            loan.state not in MIRRORED_STATES[chain_state]) else []
        found += [("funded", loan.funded_amount, chain_funded),
                  ("repaid", loan.repaid_amount, on_chain["repaid"]),
                  ("distributed", loan.distributed_to_lenders, distributed),
                  ("covered", loan.covered_amount, on_chain["covered"])]
        refunded_on_chain = 0
        found += [("lender_wallet", "", "unknown", position.lender_id)
                  for position in loan.positions.all() if not position.lender.wallet_address]
        for position in _positions(loan):
            (funded, claimed), claimable = next(results), next(results)
            refunded_on_chain += claimed
            key = (loan.pk, position.lender_id)
            found += [
                ("position_funded", position.amount, funded, position.lender_id),
                # On chain `claimed` also counts the refund of a loan that never started.
                ("position_claimed", position.claimed + position.refunded, claimed,
                 position.lender_id),
                ("claimable", ledger_claimable.get(key, 0), claimable, position.lender_id)]
        # What the LoanBook still holds of the loan's principal, by its token-balance identity.
        if chain_state in HOLDS_FUNDING:
            escrow = chain_funded
        elif chain_state in REFUNDABLE:
            escrow = chain_funded - refunded_on_chain
        else:
            escrow = 0
        found.append(("escrow", ledger_escrow.get(loan.pk, 0), escrow))
        differences += [Difference(loan_id=loan.pk, chain_loan_id=loan.chain_loan_id,
                                   field=item[0], ledger=item[1], chain=item[2],
                                   lender_id=item[3] if len(item) > 3 else None)
                        for item in found if item[1] != item[2]]
    return block, differences


def _positions(loan: Loan) -> list[FundingPosition]:
    """Positions whose chain side can be read: the lender's wallet is still linked."""
    return [position for position in loan.positions.all() if position.lender.wallet_address]


def _alert_admins(report: ReconciliationReport) -> int:
    date = timezone.localdate().isoformat()
    loans_affected = len({d.loan_id for d in report.differences})
    params = {"date": date, "run_id": report.run.pk, "block_number": report.block_number,
              "loans_checked": report.loans_checked,
              "differences": report.differences_count, "loans_affected": loans_affected,
              "examples": [d.as_dict() for d in report.differences[:ALERT_EXAMPLES]]}
    return notify_admins("admin_reconciliation_mismatch", f"reconcile:{date}:{report.digest}",
                         params)


def reconciliation_run(*, w3: Web3, deployment: Deployment,
                       batch_size: int = BATCH_LOANS) -> ReconciliationReport:
    """Compare every listed loan with the LoanBook; store the run; alert admins on differences."""
    run = ReconciliationRun.objects.create(started_at=timezone.now())
    loan_book = deployment.contract("LoanBook", w3)
    report = ReconciliationReport(run=run, block_number=-1)
    digest = hashlib.sha256()
    for batch in _loan_batches(batch_size):
        block, differences = _check_batch(w3, loan_book, deployment.chain_id, batch)
        report.block_number = max(report.block_number, block)
        report.loans_checked += len(batch)
        report.differences_count += len(differences)
        for difference in differences:
            digest.update(json.dumps(difference.as_dict(), sort_keys=True).encode())
        room = MAX_STORED_DIFFERENCES - len(report.differences)
        report.differences += differences[:max(room, 0)]
    if report.block_number < 0:
        report.block_number = _indexed_block(w3, deployment.chain_id)
    report.digest = digest.hexdigest()[:16]
    if not report.ok:
        log.warning("reconciliation found %s differences over %s loans",
                    report.differences_count, report.loans_checked)
        report.alerts_queued = _alert_admins(report)
    run.finished_at = timezone.now()
    run.block_number = report.block_number
    run.loans_checked = report.loans_checked
    run.differences_count = report.differences_count
    run.differences = [d.as_dict() for d in report.differences]
    run.ok = report.ok
    run.save()
    return report
