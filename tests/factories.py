"""Builders for test data, going through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.loans import services as loans
from core.loans.models import Loan
from core.users import services as users
from core.users.models import KycTier, TelegramUser

USD = 1_000_000  # base units of one stable token


def borrower(*, telegram_id: int, username: str, tier: int = KycTier.VERIFIED,
             wallet: str = "") -> TelegramUser:
    user, _ = users.user_get_or_create_from_telegram(telegram_id=telegram_id, username=username,
                                                     language_code="en")
    users.user_set_roles(user=user, borrower=True, lender=False)
    users.user_record_consent(user=user)
    users.user_set_phone(user=user, phone=f"+1555{telegram_id:07d}", contact_user_id=telegram_id)
    users.user_link_wallet(user=user, address=wallet or f"0x{telegram_id:040x}")
    return users.user_set_kyc_tier(user=user, tier=tier)


def lender(*, telegram_id: int, username: str, wallet: str = "") -> TelegramUser:
    user, _ = users.user_get_or_create_from_telegram(telegram_id=telegram_id, username=username,
                                                     language_code="en")
    users.user_set_roles(user=user, borrower=False, lender=True)
    users.user_record_consent(user=user)
    return users.user_link_wallet(user=user, address=wallet or f"0x{telegram_id:040x}")


def approved_loan(*, borrower: TelegramUser, principal: int = 300 * USD, installments: int = 3,
                  apr_bps: int = 1800, grade: str = "B") -> Loan:
    loan = loans.loan_request_create(borrower=borrower, principal=principal,
                                     installments=installments, purpose="business")
    loans.loan_submit(loan=loan, actor=borrower)
    loans.loan_record_offer(loan=loan, grade=grade, score=700, apr_bps=apr_bps,
                            reasons=["history_short"])
    return loans.loan_approve(loan=loan, actor_label="policy", reason="within auto limits")


_chain_ids = iter(range(1, 10**9))


def listed_loan(*, borrower: TelegramUser, **terms) -> Loan:
    loan = approved_loan(borrower=borrower, **terms)
    return loans.loan_record_listing(loan=loan, chain_loan_id=next(_chain_ids),
                                     funding_deadline=timezone.now() + timedelta(days=7))


def active_loan(*, borrower: TelegramUser, lenders: list[tuple[TelegramUser, int]],
                **terms) -> Loan:
    loan = listed_loan(borrower=borrower, **terms)
    for index, (lender_user, amount) in enumerate(lenders):
        loans.loan_record_funding(loan=loan, lender=lender_user, amount=amount,
                                  ref=f"fund:{loan.pk}:{index}")
    return loans.loan_record_drawdown(loan=loan, ref=f"drawdown:{loan.pk}")
