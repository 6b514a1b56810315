"""What a borrower's loan looks like in the chat: its card (state, funding, what is due
next), the buttons an action is possible with, and its schedule."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from bot.cards import progress_bar, schedule_lines
from bot.i18n import format_amount, format_date, format_percent_bps, localize_digits
from bot.replies import button
from core.loans.amortization import ScheduledInstallment, build_schedule
from core.loans.labels import purpose_label, state_label, term_label
from core.loans.models import Installment, Loan
from core.loans.selectors import (
    borrower_loan,
    borrower_loans,
    loan_amount_to_next_due,
    loan_installments,
    loan_next_installment,
)
from core.loans.states import CANCELLABLE_OFF_CHAIN, OPEN_FOR_FUNDING, REPAYABLE, LoanState
from core.users.models import TelegramUser

S = LoanState
MANAGE = "myloan"  # a loan's buttons: myloan|<action>|<loan>
REPAY = "repay"  # repayment: repay|<next/all/other>|<loan>, repay|amt|<nonce>|<units>


@dataclass(frozen=True)
class LoanView:
    loan: Loan
    next_due: Installment | None
    next_amount: int  # what clears the next installment (0 when nothing is due)
    schedule: list[Installment]


def loan_view(loan: Loan) -> LoanView:
    return LoanView(loan=loan, next_due=loan_next_installment(loan=loan),
                    next_amount=loan_amount_to_next_due(loan=loan),
                    schedule=loan_installments(loan=loan))


def own_views(user: TelegramUser) -> list[LoanView]:
    return [loan_view(loan) for loan in borrower_loans(borrower=user)]


def own_view(user: TelegramUser, loan_id: int) -> LoanView | None:
    loan = borrower_loan(borrower=user, loan_id=loan_id)
    return loan_view(loan) if loan is not None else None


# --- what a loan looks like in the chat -------------------------------------------------------

def loan_text(view: LoanView, language: str) -> str:
    loan = view.loan
    number = localize_digits(str(loan.pk), language)
    lines = [_("Loan #%(loan)s: %(amount)s over %(term)s — %(state)s") % {
        "loan": number, "amount": format_amount(loan.principal, language),
        "term": term_label(loan.installments, language), "state": state_label(loan.state)}]
    lines.append(_("Purpose: %(purpose)s") % {"purpose": purpose_label(loan.purpose)})
    if loan.apr_bps is not None and loan.total_due:
        lines.append(_("Rate %(apr)s a year, %(total)s to repay in all") % {
            "apr": format_percent_bps(loan.apr_bps, language),
            "total": format_amount(loan.total_due, language)})
    if loan.state in OPEN_FOR_FUNDING:
        percent = loan.funded_amount * 100 // loan.principal
        lines.append(_("Funded: %(funded)s of %(amount)s %(bar)s %(percent)s%%") % {
            "funded": format_amount(loan.funded_amount, language),
            "amount": format_amount(loan.principal, language),
            "bar": progress_bar(loan.funded_amount, loan.principal),
            "percent": localize_digits(str(percent), language)})
        if loan.funding_deadline:
            lines.append(_("Funding closes on %(date)s.") % {
                "date": format_date(loan.funding_deadline, language)})
    if loan.state == S.FUNDED:
        lines.append(_("Fully funded: draw it down to receive the money in your wallet."))
    if loan.state in REPAYABLE:
        lines.append(_("Repaid %(repaid)s; still to repay %(outstanding)s.") % {
            "repaid": format_amount(loan.repaid_amount, language),
            "outstanding": format_amount(loan.outstanding, language)})
        if view.next_due is not None:
            lines.append(_("Next: %(amount)s due on %(date)s.") % {
                "amount": format_amount(view.next_amount, language),
                "date": format_date(view.next_due.due_at, language)})
    if loan.state == S.IN_REVIEW:
        lines.append(_("A person is checking the application; I will tell you the answer "
                       "here."))
    return "\n".join(lines)


def cancellable(loan: Loan) -> bool:
    """Before the money moves: off chain, or open for funding (cancelled on chain)."""
    return loan.state in CANCELLABLE_OFF_CHAIN or loan.state in OPEN_FOR_FUNDING


def loan_buttons(loan: Loan) -> list[list]:
    row = [button(_("Schedule"), MANAGE, "sched", loan.pk)]
    if loan.state in REPAYABLE:
        row.append(button(_("Repay"), MANAGE, "repay", loan.pk))
    if loan.state == S.FUNDED:
        row.append(button(_("Draw down"), MANAGE, "draw", loan.pk))
    if cancellable(loan):
        row.append(button(_("Cancel"), MANAGE, "cancel", loan.pk))
    return [row]


def schedule_text(view: LoanView, language: str) -> tuple[str, list[ScheduledInstallment]]:
    """The stored schedule once drawn down (with dates and what is paid), otherwise the one
    the offer implies, month by month."""
    loan = view.loan
    planned = build_schedule(principal=loan.principal, total_due=loan.total_due,
                             apr_bps=loan.apr_bps, installments=loan.installments,
                             interval_days=loan.interval_days)
    lines = [_("Schedule of loan #%(loan)s:") % {"loan": localize_digits(str(loan.pk),
                                                                         language)}]
    if view.schedule:
        for item in view.schedule:
            paid = item.cumulative_due <= loan.repaid_amount
            lines.append(_("%(number)s. %(date)s: %(amount)s (interest %(interest)s)%(paid)s")
                         % {"number": localize_digits(str(item.number), language),
                            "date": format_date(item.due_at, language),
                            "amount": format_amount(item.amount, language),
                            "interest": format_amount(item.interest, language),
                            "paid": " ✓" if paid else ""})
    else:
        lines += schedule_lines(planned, language)
        lines.append(_("The dates start when you draw the loan down: one installment every "
                       "%(days)s days.") % {"days": localize_digits(str(loan.interval_days),
                                                                   language)})
    return "\n".join(lines), planned
