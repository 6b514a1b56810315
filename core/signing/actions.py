"""A service per user action on chain: check the rules, then build the signing request.

Nothing is built for an action the user may not take: state, ownership, linked wallet,
limits and frozen accounts are checked first, with plain-language refusals.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from web3.exceptions import Web3Exception

from core.audit.models import OperatorActionKind
from core.audit.services import Operator, operator_action_record
from core.common.chain import (
    TRANSIENT_RPC_ERRORS,
    ChainUnavailable,
    DeploymentMissing,
    chain_reads,
    current_deployment,
    web3_client,
)
from core.common.errors import ServiceError
from core.common.formatting import format_amount
from core.loans.funding import FundingRefused, funding_refusal
from core.loans.models import FundingPosition, Loan
from core.loans.selectors import lender_claimable
from core.loans.states import OPEN_FOR_FUNDING, LoanState
from core.signing.models import SigningKind, SigningRequest
from core.signing.selectors import loan_book_min_ticket
from core.signing.services import DEFAULT_TTL, signing_request_create
from core.users.models import TelegramUser
from onchain.approvals import LoanApproval, grade_code, sign_loan_approval
from onchain.transactions import Builder, UnsignedTx

S = LoanState
# A billion tokens: more than anyone means to deposit, far less than a signing request's
# amount column (64 bits) or uint256 could hold. The bot's amount reader stops there too.
AMOUNT_MAX = 10**15


class ActionRefused(ServiceError):
    code = "action_refused"


def builder() -> Builder:
    return Builder(current_deployment())


def _require_wallet(user: TelegramUser) -> None:
    if user.is_frozen:
        raise ActionRefused(_("Your account is frozen."), code="frozen")
    if not user.wallet_address:
        raise ActionRefused(_("Link your wallet first."), code="no_wallet")


def _step_label(step: UnsignedTx, amount: int | None, language: str) -> str:
    money = format_amount(amount, language) if amount is not None else ""
    labels = {
        "approve": _("Allow Lendgram's contract to take %(amount)s from your wallet") % {
            "amount": money},
        "open_loan": _("List your loan for lenders"),
        "fund": _("Fund the loan"),
        "cancel": _("Cancel the loan"),
        "refund": _("Take your money back"),
        "drawdown": _("Receive the loan"),
        "repay": _("Repay %(amount)s") % {"amount": money},
        "claim": _("Collect your repayments"),
        "pool_deposit": _("Deposit into the backstop pool"),
        "pool_request_withdraw": _("Ask to withdraw from the backstop pool"),
        "pool_withdraw": _("Withdraw from the backstop pool"),
        "pause": _("Pause the contract"),
        "unpause": _("Resume the contract"),
    }
    return labels.get(step.step, step.step)


def _create(*, user: TelegramUser, kind: str, steps: list[UnsignedTx], summary: str,
            loan: Loan | None = None, amount: int | None = None,
            approval_nonce: str = "") -> tuple[SigningRequest, str]:
    transactions = [{**step.as_dict(), "label": _step_label(step, amount, user.language)}
                    for step in steps]
    request, token = signing_request_create(
        user=user, kind=kind, summary=summary, transactions=transactions, loan=loan,
        amount=amount, expected_sender=user.wallet_address)
    if approval_nonce:
        SigningRequest.objects.filter(pk=request.pk).update(approval_nonce=approval_nonce)
        request.approval_nonce = approval_nonce
    return request, token


def wallet_link_request(*, user: TelegramUser) -> tuple[SigningRequest, str]:
    if user.is_frozen:
        raise ActionRefused(_("Your account is frozen."), code="frozen")
    with translation.override(user.language):
        return signing_request_create(
            user=user, kind=SigningKind.LINK_WALLET,
            summary=_("Sign a message with your wallet to prove it is yours. Signing costs "
                      "nothing and moves no money."))


def open_loan_request(*, user: TelegramUser, loan: Loan) -> tuple[SigningRequest, str]:
    """The borrower lists an approved loan: the underwriter signs the approval here."""
    if loan.borrower_id != user.pk:
        raise ActionRefused(_("This is not your loan."), code="not_owner")
    if loan.state != S.APPROVED:
        raise ActionRefused(_("Only an approved loan can be listed."), code="bad_state")
    _require_wallet(user)
    if not settings.UNDERWRITER_PRIVATE_KEY:
        raise ActionRefused(_("Loan listing is not available right now."), code="no_underwriter")
    now = timezone.now()
    deployment = current_deployment()
    approval = LoanApproval(
        borrower=user.wallet_address, principal=loan.principal, total_due=loan.total_due,
        installments=loan.installments, interval=loan.interval_days * 86400,
        funding_deadline=int((now + timedelta(days=settings.FUNDING_WINDOW_DAYS)).timestamp()),
        grade=grade_code(loan.grade), nonce=secrets.randbits(128),
        expiry=int((now + DEFAULT_TTL).timestamp()))
    signature = sign_loan_approval(approval, private_key=settings.UNDERWRITER_PRIVATE_KEY,
                                   chain_id=settings.CHAIN_ID, loan_book=deployment.loan_book)
    with translation.override(user.language):
        summary = _("List your loan of %(principal)s for lenders. You will repay %(total)s in "
                    "%(n)s installments.") % {
            "principal": format_amount(loan.principal, user.language),
            "total": format_amount(loan.total_due, user.language), "n": loan.installments}
        return _create(user=user, kind=SigningKind.OPEN_LOAN, loan=loan, amount=loan.principal,
                       steps=builder().open_loan(approval, signature), summary=summary,
                       approval_nonce=str(approval.nonce))


def fund_request(*, user: TelegramUser, loan: Loan, amount: int) -> tuple[SigningRequest, str]:
    refusal = funding_refusal(lender=user, loan=loan)
    if refusal is not None:
        raise FundingRefused(reason=refusal)
    _require_wallet(user)
    if amount <= 0 or amount > loan.left_to_fund:
        raise ActionRefused(_("Choose an amount up to %(left)s.") % {
            "left": format_amount(loan.left_to_fund, user.language)}, code="bad_amount")
    ticket = loan_book_min_ticket()
    if amount < loan.left_to_fund and amount < ticket:
        # The LoanBook refuses a small ticket unless it fills the loan: say so before signing.
        raise ActionRefused(_("The smallest amount is %(min)s, unless it completes the loan "
                              "(%(left)s left).") % {
            "min": format_amount(ticket, user.language),
            "left": format_amount(loan.left_to_fund, user.language)}, code="below_min_ticket")
    with translation.override(user.language):
        summary = _("Fund loan #%(id)s with %(amount)s.") % {
            "id": loan.pk, "amount": format_amount(amount, user.language)}
        return _create(user=user, kind=SigningKind.FUND, loan=loan, amount=amount,
                       steps=builder().fund(loan.chain_loan_id, amount), summary=summary)


def drawdown_request(*, user: TelegramUser, loan: Loan) -> tuple[SigningRequest, str]:
    if loan.borrower_id != user.pk:
        raise ActionRefused(_("This is not your loan."), code="not_owner")
    if loan.state != S.FUNDED:
        raise ActionRefused(_("The loan is not fully funded yet."), code="bad_state")
    _require_wallet(user)
    with translation.override(user.language):
        summary = _("Receive %(amount)s into your wallet. The repayment schedule starts now.") % {
            "amount": format_amount(loan.principal, user.language)}
        return _create(user=user, kind=SigningKind.DRAWDOWN, loan=loan, amount=loan.principal,
                       steps=builder().drawdown(loan.chain_loan_id), summary=summary)


def repay_request(*, user: TelegramUser, loan: Loan, amount: int) -> tuple[SigningRequest, str]:
    """Anyone may repay on chain; through the bot the borrower repays their own loan."""
    if loan.borrower_id != user.pk:
        raise ActionRefused(_("This is not your loan."), code="not_owner")
    if loan.state not in {S.ACTIVE, S.LATE, S.DEFAULTED}:
        raise ActionRefused(_("This loan takes no repayment now."), code="bad_state")
    if amount <= 0 or amount > loan.outstanding:
        raise ActionRefused(_("Choose an amount up to %(left)s.") % {
            "left": format_amount(loan.outstanding, user.language)}, code="bad_amount")
    _require_wallet(user)
    with translation.override(user.language):
        summary = _("Repay %(amount)s on loan #%(id)s.") % {
            "amount": format_amount(amount, user.language), "id": loan.pk}
        return _create(user=user, kind=SigningKind.REPAY, loan=loan, amount=amount,
                       steps=builder().repay(loan.chain_loan_id, amount), summary=summary)


def claim_request(*, user: TelegramUser) -> tuple[SigningRequest, str]:
    """Collect every repayment waiting for the lender, in one transaction."""
    _require_wallet(user)
    positions = (FundingPosition.objects.select_related("loan")
                 .filter(lender=user, loan__chain_loan_id__isnull=False))
    claimable = {p.loan.chain_loan_id: lender_claimable(position=p) for p in positions}
    loan_ids = sorted(loan_id for loan_id, amount in claimable.items() if amount > 0)
    if not loan_ids:
        raise ActionRefused(_("There is nothing to collect yet."), code="nothing_claimable")
    total = sum(claimable[loan_id] for loan_id in loan_ids)
    with translation.override(user.language):
        summary = _("Collect %(amount)s of repayments from %(n)s loans.") % {
            "amount": format_amount(total, user.language), "n": len(loan_ids)}
        return _create(user=user, kind=SigningKind.CLAIM, amount=total,
                       steps=builder().claim(loan_ids), summary=summary)


def refund_request(*, user: TelegramUser, loan: Loan) -> tuple[SigningRequest, str]:
    position = FundingPosition.objects.filter(loan=loan, lender=user).first()
    if position is None or position.amount - position.refunded <= 0:
        raise ActionRefused(_("You have nothing to take back from this loan."),
                            code="nothing_refundable")
    if loan.state not in {S.EXPIRED, S.CANCELLED}:
        raise ActionRefused(_("Refunds open when a loan expires or is cancelled."),
                            code="bad_state")
    _require_wallet(user)
    amount = position.amount - position.refunded
    with translation.override(user.language):
        summary = _("Take back %(amount)s from loan #%(id)s.") % {
            "amount": format_amount(amount, user.language), "id": loan.pk}
        return _create(user=user, kind=SigningKind.REFUND, loan=loan, amount=amount,
                       steps=builder().refund(loan.chain_loan_id), summary=summary)


def cancel_request(*, user: TelegramUser, loan: Loan) -> tuple[SigningRequest, str]:
    if loan.borrower_id != user.pk:
        raise ActionRefused(_("This is not your loan."), code="not_owner")
    if loan.state not in OPEN_FOR_FUNDING:
        raise ActionRefused(_("Only a loan that is still being funded can be cancelled."),
                            code="bad_state")
    _require_wallet(user)
    with translation.override(user.language):
        return _create(user=user, kind=SigningKind.CANCEL, loan=loan,
                       steps=builder().cancel(loan.chain_loan_id),
                       summary=_("Cancel loan #%(id)s. Lenders can take their money back.") % {
                           "id": loan.pk})


def pool_deposit_request(*, user: TelegramUser, amount: int) -> tuple[SigningRequest, str]:
    """Deposit into the backstop pool: its shares earn premiums and carry default risk."""
    if amount <= 0:
        raise ActionRefused(_("Choose an amount above zero."), code="bad_amount")
    if amount > AMOUNT_MAX:
        raise ActionRefused(_("That amount is too large."), code="too_large")
    _require_wallet(user)
    with translation.override(user.language):
        summary = _("Deposit %(amount)s into the backstop pool. Withdrawals need a cooldown "
                    "request first.") % {"amount": format_amount(amount, user.language)}
        return _create(user=user, kind=SigningKind.POOL_DEPOSIT, amount=amount,
                       steps=builder().pool_deposit(amount, user.wallet_address),
                       summary=summary)


def pool_withdraw_request(*, user: TelegramUser, shares: int,
                          ready: bool) -> tuple[SigningRequest, str]:
    """Ask to withdraw (starts the cooldown) or, once the cooldown is over, redeem shares."""
    if shares <= 0:
        raise ActionRefused(_("Choose an amount above zero."), code="bad_amount")
    _require_wallet(user)
    pool_builder = builder()
    with translation.override(user.language):
        if ready:
            steps = pool_builder.pool_redeem(shares, user.wallet_address)
            summary = _("Withdraw your shares from the backstop pool.")
        else:
            steps = pool_builder.pool_request_withdraw(shares)
            summary = _("Ask to withdraw from the backstop pool. After the cooldown you can "
                        "take the money out.")
        return _create(user=user, kind=SigningKind.POOL_WITHDRAW, steps=steps, summary=summary)


# The contracts an admin pauses together: LoanBook (listing, funding, drawdown, cancel, expire,
# markDefault) and the backstop pool (deposits). Repayments, claims, refunds and pool
# withdrawals go on while paused: that money belongs to the users.
PAUSABLE = ("LoanBook", "LiquidityBackstopPool")


@chain_reads()
def contracts_paused() -> dict[str, bool]:
    """Whether each pausable contract is paused now, read from the chain (ChainUnavailable or
    DeploymentMissing when it cannot be)."""
    w3, deployment = web3_client(), current_deployment()
    try:
        return {name: deployment.contract(name, w3).functions.paused().call()
                for name in PAUSABLE}
    except (Web3Exception, ValueError, *TRANSIENT_RPC_ERRORS) as error:
        raise ChainUnavailable() from error


def _pause_steps(wallet: str, *, paused: bool) -> list[UnsignedTx]:
    """One step per contract not yet in the wanted state; the wallet must hold PAUSER_ROLE
    on each (the deploy script grants it to the deployer)."""
    steps = []
    try:
        w3, deployment = web3_client(), current_deployment()
        pause_builder = Builder(deployment)
        for name in PAUSABLE:
            functions = deployment.contract(name, w3).functions
            if not functions.hasRole(functions.PAUSER_ROLE().call(), wallet).call():
                raise ActionRefused(_("Your wallet may not pause the contracts: it does not "
                                      "hold the pauser role."), code="not_pauser")
            if functions.paused().call() != paused:
                steps += pause_builder.pause(name, paused=paused)
    except (*TRANSIENT_RPC_ERRORS, Web3Exception, DeploymentMissing) as exc:
        raise ActionRefused(_("The chain cannot be reached right now. Please try again in a "
                              "minute."), code="chain_unavailable") from exc
    return steps


def _pause_request(*, user: TelegramUser, paused: bool) -> tuple[SigningRequest, str]:
    if not user.is_admin:
        raise ActionRefused(_("Only an admin can pause or resume the contracts."),
                            code="not_admin")
    _require_wallet(user)
    steps = _pause_steps(user.wallet_address, paused=paused)
    if not steps:
        raise ActionRefused(_("The contracts are already paused.") if paused else
                            _("The contracts are already running."), code="no_change")
    with transaction.atomic(), translation.override(user.language):
        summary = (_("Pause the contracts: no new loans, funding, drawdowns, cancellations, "
                     "defaults or pool deposits until you resume them. Repayments, claims, "
                     "refunds and pool withdrawals go on.") if paused else
                   _("Resume the contracts: listing, funding, drawdowns, cancellations, "
                     "defaults and pool deposits work again."))
        created = _create(user=user, kind=SigningKind.PAUSE if paused else SigningKind.UNPAUSE,
                          steps=steps, summary=summary)
        # The chain has the last word (the admin may never sign), but asking is an action too.
        operator_action_record(
            by=Operator.telegram(user), target="LoanBook and pool",
            kind=OperatorActionKind.PAUSE if paused else OperatorActionKind.UNPAUSE,
            reason=f"signing request #{created[0].pk}")
    return created


def pause_request(*, user: TelegramUser) -> tuple[SigningRequest, str]:
    """An admin pauses LoanBook and the pool from their own wallet (which holds PAUSER_ROLE)."""
    return _pause_request(user=user, paused=True)


def unpause_request(*, user: TelegramUser) -> tuple[SigningRequest, str]:
    return _pause_request(user=user, paused=False)
