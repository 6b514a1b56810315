"""May this person fund this loan: the one rule the bot, the web pages and the signing
actions (fund_request, a resent link) all ask.

The answer is a reason key, or None: callers say it in their own words (the bot points to
its commands, the web page to the bot). The account-wide rules of every action (a frozen
account, a linked wallet) and the amount are checked where the signing request is built.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.errors import ServiceError
from core.loans.models import Loan
from core.loans.states import OPEN_FOR_FUNDING
from core.users.models import TERMS_VERSION, TelegramUser

NOT_LENDER = "not_lender"
TERMS_NOT_ACCEPTED = "terms_not_accepted"
OWN_LOAN = "own_loan"
NOT_OPEN = "not_open"
DEADLINE_PASSED = "deadline_passed"


class FundingRefused(ServiceError):
    """fund_request's refusal; `code` is the reason key of funding_refusal."""

    code = "funding_refused"

    def __init__(self, *, reason: str) -> None:
        super().__init__(funding_refusal_text(reason), code=reason)
        self.reason = reason


def loan_open_for_funding(*, loan: Loan) -> bool:
    """Listed on chain, still taking lenders, and not yet fully funded."""
    return (loan.state in OPEN_FOR_FUNDING and loan.chain_loan_id is not None
            and loan.left_to_fund > 0)


def funding_refusal(*, lender: TelegramUser, loan: Loan) -> str | None:
    """Why `lender` may not fund `loan` (a reason key above), or None. The person's own
    reasons come first: they are what the person can change."""
    if not lender.is_lender:
        return NOT_LENDER
    if lender.consented_at is None or lender.terms_version != TERMS_VERSION:
        return TERMS_NOT_ACCEPTED
    if loan.borrower_id == lender.pk:
        return OWN_LOAN
    if not loan_open_for_funding(loan=loan):
        return NOT_OPEN
    if loan.funding_deadline and loan.funding_deadline <= timezone.now():
        return DEADLINE_PASSED
    return None


def funding_refusal_text(reason: str) -> str:
    """A refusal in plain words for faces that have none of their own (a resent link)."""
    return {
        NOT_LENDER: _("Funding loans is for lenders."),
        TERMS_NOT_ACCEPTED: _("Please accept the current terms before funding a loan."),
        OWN_LOAN: _("You cannot fund your own loan."),
        NOT_OPEN: _("This loan is not open for funding."),
        DEADLINE_PASSED: _("The funding deadline of this loan has passed."),
    }[reason]


def funding_amount(*, loan: Loan, asked: int) -> int:
    """What a lender who typed `asked` funds: capped at what is left (never raised; the person
    still confirms the amount in their wallet)."""
    return min(asked, loan.left_to_fund)
