"""The ledger entries of each money event of a loan, mirroring token movements on chain.

The loans app's rules for the generic ledger below it: which accounts a funding, refund,
drawdown, repayment, cover or claim moves.

Token locations: a user's wallet (outside the contracts), a loan's escrow (funded principal
held by the LoanBook), each lender's claimable balance per loan, the loan's undistributed
rounding remainder, the treasury's fees and the backstop pool.

Entries go into a LedgerBatch (the loan services' unit of work), which writes them with bulk
inserts when the money event, or a whole batch of chain events, is done.
"""

from __future__ import annotations

from datetime import datetime

from core.ledger.models import AccountKind
from core.ledger.services import AccountSpec, LedgerBatch
from core.loans.models import Loan
from core.users.models import TelegramUser


def _account(kind: str, *, user: TelegramUser | None = None,
             loan: Loan | None = None) -> AccountSpec:
    return AccountSpec(kind=kind, user=user, loan_id=None if loan is None else loan.pk)


def post_funding(*, ledger: LedgerBatch, key: str, loan: Loan, lender: TelegramUser,
                 amount: int, occurred_at: datetime | None = None) -> None:
    ledger.post(
        key=key, description=f"Loan #{loan.pk} funded by {lender}", loan_id=loan.pk,
        occurred_at=occurred_at,
        lines=[(_account(AccountKind.LOAN_ESCROW, loan=loan), amount),
               (_account(AccountKind.WALLET, user=lender), -amount)],
    )


def post_refund(*, ledger: LedgerBatch, key: str, loan: Loan, lender: TelegramUser,
                amount: int, occurred_at: datetime | None = None) -> None:
    ledger.post(
        key=key, description=f"Loan #{loan.pk} refunded to {lender}", loan_id=loan.pk,
        occurred_at=occurred_at,
        lines=[(_account(AccountKind.WALLET, user=lender), amount),
               (_account(AccountKind.LOAN_ESCROW, loan=loan), -amount)],
    )


def post_drawdown(*, ledger: LedgerBatch, key: str, loan: Loan,
                  occurred_at: datetime | None = None) -> None:
    ledger.post(
        key=key, description=f"Loan #{loan.pk} drawn down", loan_id=loan.pk,
        occurred_at=occurred_at,
        lines=[(_account(AccountKind.WALLET, user=loan.borrower), loan.principal),
               (_account(AccountKind.LOAN_ESCROW, loan=loan), -loan.principal)],
    )


def _distribution_lines(loan: Loan, shares: dict[TelegramUser, int], remainder: int):
    lines = [(_account(AccountKind.LENDER_CLAIMABLE, user=lender, loan=loan), amount)
             for lender, amount in shares.items()]
    lines.append((_account(AccountKind.LOAN_UNDISTRIBUTED, loan=loan), remainder))
    return lines


def post_repayment(*, ledger: LedgerBatch, key: str, loan: Loan, payer: TelegramUser,
                   amount: int, fee: int, premium: int, to_pool: int,
                   shares: dict[TelegramUser, int], remainder: int, meta: dict,
                   occurred_at: datetime | None = None) -> None:
    ledger.post(
        key=key, description=f"Loan #{loan.pk} repayment", loan_id=loan.pk, meta=meta,
        occurred_at=occurred_at,
        lines=[(_account(AccountKind.WALLET, user=payer), -amount),
               (_account(AccountKind.TREASURY), fee),
               (_account(AccountKind.BACKSTOP_POOL), premium + to_pool),
               *_distribution_lines(loan, shares, remainder)],
    )


def post_cover(*, ledger: LedgerBatch, key: str, loan: Loan, cover: int,
               shares: dict[TelegramUser, int], remainder: int,
               occurred_at: datetime | None = None) -> None:
    ledger.post(
        key=key, description=f"Loan #{loan.pk} default covered by the backstop pool",
        loan_id=loan.pk, occurred_at=occurred_at,
        lines=[(_account(AccountKind.BACKSTOP_POOL), -cover),
               *_distribution_lines(loan, shares, remainder)],
    )


def post_claim(*, ledger: LedgerBatch, key: str, loan: Loan, lender: TelegramUser, amount: int,
               occurred_at: datetime | None = None) -> None:
    ledger.post(
        key=key, description=f"Lender {lender} claimed from loan #{loan.pk}", loan_id=loan.pk,
        occurred_at=occurred_at,
        lines=[(_account(AccountKind.WALLET, user=lender), amount),
               (_account(AccountKind.LENDER_CLAIMABLE, user=lender, loan=loan), -amount)],
    )
