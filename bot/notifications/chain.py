"""What the chain's events mean to each person (core/chain/events.py), whether
a transaction signed away from the chat went through (core/signing/services.py), and the
reconciliation alert to admins (core/chain/reconciliation.py).

Every message says what happened and what to do next; buttons name the loan and the handler
behind them re-checks everything (a notification's button carries no authority).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import format_amount, format_date, format_number, localize_digits
from bot.notifications.registry import Rendered, template
from bot.replies import button, keyboard


def _loan(params: dict, language: str) -> str:
    return localize_digits(str(params["loan_id"]), language)


def _money(units: int | None, language: str) -> str:
    return format_amount(units or 0, language)


def _collect_button() -> InlineKeyboardMarkup:
    return keyboard([button(_("Collect my repayments"), "pf", "claim")])


# --- borrowers ---------------------------------------------------------------------------------

@template("loan_listed")
def loan_listed(params: dict, language: str) -> Rendered:
    link = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=loan_{params['loan_id']}"
    return Rendered(
        _("Your loan #%(loan)s of %(amount)s is listed: lenders can fund it now. I will tell "
          "you when it is fully funded; /loans shows the progress. Share the link to find "
          "lenders faster: %(link)s")
        % {"loan": _loan(params, language), "amount": _money(params["amount"], language),
           "link": link},
        InlineKeyboardMarkup([[InlineKeyboardButton(_("Open the loan card"), url=link)]]))


@template("drawdown_confirmed")
def drawdown_confirmed(params: dict, language: str) -> Rendered:
    lines = [_("%(amount)s from loan #%(loan)s is in your wallet.")
             % {"amount": _money(params["amount"], language), "loan": _loan(params, language)}]
    if params.get("first_due_date"):
        lines.append(_("Your first installment of %(amount)s is due on %(date)s. I will remind "
                       "you before then; /repay pays it at any time.")
                     % {"amount": _money(params["first_amount"], language),
                        "date": format_date(datetime.fromisoformat(params["first_due_date"]),
                                            language)})
    return Rendered("\n".join(lines), keyboard(
        [button(_("Show the schedule"), "myloan", "sched", params["loan_id"])]))


@template("loan_expired")
def loan_expired(params: dict, language: str) -> Rendered:
    return Rendered(_("Loan #%(loan)s was not fully funded before its deadline, so it is "
                      "closed. You owe nothing, and lenders take their money back. You can "
                      "apply again with /borrow.") % {"loan": _loan(params, language)})


@template("loan_cancelled")
def loan_cancelled(params: dict, language: str) -> Rendered:
    return Rendered(_("Loan #%(loan)s is cancelled. You owe nothing, and any lenders take "
                      "their money back. You can apply again with /borrow.")
                    % {"loan": _loan(params, language)})


@template("loan_defaulted")
def loan_defaulted(params: dict, language: str) -> Rendered:
    return Rendered(
        _("Loan #%(loan)s is in default: an installment stayed unpaid past the grace period. "
          "You still owe %(outstanding)s, and you can still repay it: press the button or "
          "send /repay.")
        % {"loan": _loan(params, language),
           "outstanding": _money(params["outstanding"], language)},
        keyboard([button(_("Repay"), "myloan", "repay", params["loan_id"])]))


# --- lenders -----------------------------------------------------------------------------------

@template("funding_confirmed")
def funding_confirmed(params: dict, language: str) -> Rendered:
    return Rendered(_("Your %(amount)s for loan #%(loan)s is confirmed on the chain. You will "
                      "collect your share of each repayment; /portfolio shows your loans.")
                    % {"amount": _money(params["amount"], language),
                       "loan": _loan(params, language)})


@template("lender_repayment_received")
def lender_repayment_received(params: dict, language: str) -> Rendered:
    return Rendered(_("The borrower of loan #%(loan)s repaid %(amount)s. Your share is ready "
                      "to collect: press the button or send /portfolio.")
                    % {"loan": _loan(params, language),
                       "amount": _money(params["amount"], language)}, _collect_button())


@template("refund_available")
def refund_available(params: dict, language: str) -> Rendered:
    amount = _money(params["amount"], language)
    return Rendered(
        _("Loan #%(loan)s did not go ahead, so your %(amount)s can come back to your wallet. "
          "Press the button to take it back (you sign it in your wallet).")
        % {"loan": _loan(params, language), "amount": amount},
        keyboard([button(_("Take back %(amount)s") % {"amount": amount}, "pf", "refund",
                         params["loan_id"])]))


@template("lender_loan_defaulted")
def lender_loan_defaulted(params: dict, language: str) -> Rendered:
    values = {"loan": _loan(params, language), "cover": _money(params["cover"], language)}
    if params["cover"]:
        return Rendered(_("Loan #%(loan)s is in default. The backstop pool covered %(cover)s "
                          "of it, shared among its lenders: your part is ready to collect. "
                          "Whatever the borrower still repays goes to the pool first, then to "
                          "the lenders.") % values, _collect_button())
    return Rendered(_("Loan #%(loan)s is in default. The backstop pool could not cover any of "
                      "it. Whatever the borrower still repays is shared among the lenders; "
                      "/portfolio shows your position.") % values)


@template("claim_confirmed")
def claim_confirmed(params: dict, language: str) -> Rendered:
    return Rendered(_("You collected %(amount)s from loan #%(loan)s: it is in your wallet.")
                    % {"amount": _money(params["amount"], language),
                       "loan": _loan(params, language)})


# --- signing requests settled away from the chat ------------------------------------------------

def _values(params: dict, language: str) -> dict:
    loan_id = params.get("loan_id")
    return {"amount": _money(params.get("amount"), language),
            "loan": localize_digits(str(loan_id), language) if loan_id else ""}


@template("signing_confirmed")
def signing_confirmed(params: dict, language: str) -> Rendered:
    values, kind = _values(params, language), params["kind"]
    if kind == "refund":
        text = _("You took back %(amount)s from loan #%(loan)s: it is in your wallet.")
    elif kind == "pool_deposit":
        text = _("Your deposit of %(amount)s into the backstop pool is confirmed. /pool shows "
                 "your shares and what they earn.")
    elif kind == "pool_withdraw" and params.get("step") == "pool_request_withdraw":
        text = _("Your withdrawal request is confirmed: the cooldown has started. /pool shows "
                 "when you can take the money out.")
    elif kind == "pool_withdraw":
        text = _("Your withdrawal from the backstop pool is confirmed: the money is in your "
                 "wallet.")
    elif kind == "pause":
        text = _("The contracts are paused: no new loans, funding, drawdowns, cancellations "
                 "or pool deposits. Repayments, claims and refunds go on. Send /admin to resume "
                 "them.")
    elif kind == "unpause":
        text = _("The contracts are running again.")
    else:
        text = _("Your transaction is confirmed on the chain.")
    return Rendered(text % values)


def _failed_text(kind: str) -> str:
    return {
        "open_loan": _("Listing loan #%(loan)s did not go through. Send /loans to try again."),
        "fund": _("Your funding of %(amount)s for loan #%(loan)s did not go through. The loan "
                  "may be fully funded already: send /lend to see it and try again."),
        "cancel": _("Cancelling loan #%(loan)s did not go through. Send /loans to see the loan "
                    "and try again."),
        "drawdown": _("Drawing down loan #%(loan)s did not go through. Send /loans to try "
                      "again."),
        "repay": _("Your repayment of %(amount)s for loan #%(loan)s did not go through. Check "
                   "that your wallet holds the amount, then send /repay to try again."),
        "claim": _("Collecting your repayments did not go through. Send /portfolio to try "
                   "again."),
        "refund": _("Taking back your money from loan #%(loan)s did not go through. Send "
                    "/portfolio to try again."),
        "pool_deposit": _("Your deposit of %(amount)s into the backstop pool did not go "
                          "through. Check that your wallet holds the amount, then send /pool to "
                          "try again."),
        "pool_withdraw": _("Your withdrawal from the backstop pool did not go through. Send "
                           "/pool to see when it is possible and try again."),
        "pause": _("Pausing the contracts did not go through. Send /admin to try again."),
        "unpause": _("Resuming the contracts did not go through. Send /admin to try again."),
    }.get(kind, _("Your transaction did not go through. Please try again."))


@template("signing_failed")
def signing_failed(params: dict, language: str) -> Rendered:
    return Rendered(_("The network refused the transaction, so no money moved.") + " "
                    + _failed_text(params["kind"]) % _values(params, language))


# --- admins ------------------------------------------------------------------------------------

@template("admin_reconciliation_mismatch")
def admin_reconciliation_mismatch(params: dict, language: str) -> Rendered:
    count = int(params["differences"])
    lines = [ngettext(
        "Reconciliation run #%(run)s found %(count)s difference between the ledger and the "
        "chain at block %(block)s (%(affected)s of %(checked)s loans affected).",
        "Reconciliation run #%(run)s found %(count)s differences between the ledger and the "
        "chain at block %(block)s (%(affected)s of %(checked)s loans affected).", count)
        % {"run": localize_digits(str(params["run_id"]), language),
           "count": format_number(count, language),
           "block": localize_digits(str(params["block_number"]), language),
           "affected": format_number(int(params["loans_affected"]), language),
           "checked": format_number(int(params["loans_checked"]), language)}]
    for example in params.get("examples", []):
        lines.append("• " + _("loan #%(loan)s (chain #%(chain_loan)s), %(field)s: ledger "
                              "%(ledger)s, chain %(chain)s")
                     % {"loan": localize_digits(str(example["loan_id"]), language),
                        "chain_loan": localize_digits(str(example["chain_loan_id"]), language),
                        "field": example["field"], "ledger": example["ledger"],
                        "chain": example["chain"]})
    lines.append(_("Check the indexer and the ledger before anything else moves; the whole run "
                   "is under Reconciliation runs in the Django admin."))
    return Rendered("\n".join(lines))
