"""Applying stored contract logs to the domain, through the loan services.

Each log applies once (its ref is the idempotency key of everything it posts). A log that
cannot be applied, e.g. a wallet no account has linked, is kept with its problem and reported
to admins; the indexer goes on, and the reconciliation job shows the gap.

A batch of logs is applied in the caller's transaction through one LoanBatch: the loans,
positions, schedules, wallets and signing requests it needs are read (and the loans locked)
with a few queries up front, each log runs as one batch event (taken back in memory if it
fails), and every row it writes is inserted in bulk at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db.models.functions import Lower
from django.utils import timezone

from core.chain.chain_notifications import ChainNotifier
from core.chain.events import EVENTS, NotApplicable
from core.chain.models import ChainLog
from core.common.errors import ServiceError
from core.loans import chain_rollback as loans_rollback
from core.loans.batch import LoanBatch
from core.loans.models import Loan
from core.signing.models import SigningRequest
from core.users.models import TelegramUser
from core.users.selectors import user_by_wallet

log = logging.getLogger(__name__)


class ApplyContext:
    """What applying a batch of logs reads, each kind fetched in one query for the batch."""

    def __init__(self, entries: list[ChainLog]) -> None:
        self.batch = LoanBatch()
        self._wallets: dict[str, TelegramUser | None] = {}
        self._opened: dict[str, SigningRequest] = {}
        book = [entry for entry in entries
                if entry.contract == "LoanBook" and entry.applied_at is None]
        self._recovered: dict[tuple[int, str], list[ChainLog]] = {}
        repaid = {entry.tx_hash for entry in book if entry.name == "Repaid"}
        for other in ChainLog.objects.filter(tx_hash__in=repaid, name="Recovered"):
            self._recovered.setdefault((other.chain_id, other.tx_hash), []).append(other)
        self._load_wallets(address for entry in book
                           for key in ("lender", "payer") if key in entry.args
                           for address in [entry.args[key]])
        nonces = [str(entry.args["nonce"]) for entry in book if entry.name == "LoanOpened"]
        self._opened = {request.approval_nonce: request for request in
                        SigningRequest.objects.filter(approval_nonce__in=nonces,
                                                      loan__isnull=False).order_by("pk")}
        self.batch.lock_many(pks={request.loan_id for request in self._opened.values()},
                             chain_ids={entry.args["loanId"] for entry in book
                                        if "loanId" in entry.args})
        refs = [entry.ref for entry in book]
        self.batch.ledger.preload(refs)
        self.batch.preload_repayments(entry.ref for entry in book if entry.name == "Repaid")

    def _load_wallets(self, addresses: Iterable[str]) -> None:
        wanted = {address.lower() for address in addresses} - set(self._wallets)
        if not wanted:
            return
        self._wallets.update(dict.fromkeys(wanted))
        users = (TelegramUser.objects.annotate(wallet=Lower("wallet_address"))
                 .filter(wallet__in=wanted).order_by("-pk"))
        for user in users:  # lowest pk wins, as user_by_wallet's first() does
            self._wallets[user.wallet] = user

    def wallet(self, address: str) -> TelegramUser | None:
        """user_by_wallet, from the batch's one look-up."""
        if address.lower() not in self._wallets:
            self._load_wallets([address])
        return self._wallets[address.lower()]

    def user(self, address: str, role: str) -> TelegramUser:
        user = self.wallet(address)
        if user is None:
            raise NotApplicable(f"the {role} wallet {address} is not linked to any account")
        return user

    def loan(self, chain_loan_id: int) -> Loan:
        loan = self.batch.loan_by_chain_id(chain_loan_id)
        if loan is None:
            raise NotApplicable(f"no loan is listed as chain loan {chain_loan_id}")
        return loan

    def opened_request(self, nonce: str) -> SigningRequest | None:
        if nonce not in self._opened:
            request = (SigningRequest.objects.filter(approval_nonce=nonce, loan__isnull=False)
                       .order_by("pk").first())
            if request is None:
                return None
            self._opened[nonce] = request
        return self._opened[nonce]

    def recovered_before(self, entry: ChainLog) -> ChainLog | None:
        """The first Recovered log before this Repaid one in the same transaction."""
        earlier = [other for other in self._recovered.get((entry.chain_id, entry.tx_hash), [])
                   if other.log_index < entry.log_index]
        return min(earlier, key=lambda other: other.log_index, default=None)


def chain_logs_apply(*, entries: list[ChainLog]) -> int:
    """Apply the stored logs not applied yet, in the order given (chain order), inside the
    caller's transaction; returns how many applied. A log that cannot be applied keeps its
    problem and changes nothing; the others go on."""
    ctx = ApplyContext(entries)
    notifier = ChainNotifier(ctx.batch, wallet=ctx.wallet)
    applied: list[ChainLog] = []
    failed: list[ChainLog] = []
    for entry in entries:
        if entry.applied_at is not None:
            continue
        event = EVENTS.get((entry.contract, entry.name))
        handler = event.apply if event is not None else None
        if handler is not None:
            try:
                with ctx.batch.event():
                    handler(ctx, entry, entry.args)
            except (NotApplicable, ServiceError) as exc:
                entry.problem = str(exc)[:255]
                failed.append(entry)
                log.warning("chain log %s not applied: %s", entry, exc)
                continue
        entry.applied_at, entry.problem = timezone.now(), ""
        applied.append(entry)
        if event is not None:
            notifier.notify(entry=entry, event=event)
    ctx.batch.flush()
    notifier.flush()
    if applied:
        ChainLog.objects.filter(pk__in=[entry.pk for entry in applied]).update(
            applied_at=timezone.now(), problem="")
    if failed:
        ChainLog.objects.bulk_update(failed, ["problem"])
    return len(applied)


def chain_log_undo(*, entry: ChainLog) -> None:
    """Take back what an applied log did (its block left the canonical chain)."""
    if entry.applied_at is None or entry.contract != "LoanBook":
        return
    args = entry.args
    loan = Loan.objects.filter(chain_loan_id=args.get("loanId")).first()
    if loan is None:
        return
    address = args.get("lender")
    lender = user_by_wallet(address=address) if address else None
    loans_rollback.loan_undo_chain_event(loan=loan, name=entry.name, args=args, ref=entry.ref,
                                         lender=lender)
