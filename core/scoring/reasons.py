"""Plain-language text of every reason key a score or a policy decision can carry.

Scores and notifications store only the keys; the bot renders them in the borrower's language
with ``reason_text(key)`` inside ``translation.override(user.language)``. For a refusal these
are the adverse-action reasons.
"""

from django.utils.translation import gettext_lazy as _

REASON_TEXTS = {
    # scorecard (why the score is not higher)
    "reason_past_defaults": _("You have loans that were not repaid."),
    "reason_no_repayment_history": _("You have no repayment history with us yet."),
    "reason_short_repayment_history": _("Your repayment history with us is short."),
    "reason_late_payments": _("Some of your installments were paid late."),
    "reason_days_late": _("Some of your payments were many days late."),
    "reason_few_loans_completed": _("You have repaid few loans with us so far."),
    "reason_high_exposure": _("You already owe a large part of your borrowing limit."),
    "reason_no_borrowing_limit": _("Your account is not verified for borrowing yet."),
    "reason_income_not_declared": _("You have not told us your income."),
    "reason_low_income": _("Your declared income is low for this loan."),
    "reason_employment_not_declared": _("You have not told us your employment."),
    "reason_employment": _("Your employment situation."),
    "reason_loan_purpose": _("The purpose of the loan."),
    "reason_phone_not_shared": _("You have not shared your phone number."),
    "reason_new_wallet": _("Your wallet is new."),
    "reason_little_wallet_activity": _("Your wallet has little activity."),
    "reason_wallet_history_unknown": _("We could not read your wallet's history yet."),
    "reason_new_customer": _("You joined us recently."),
    "reason_telegram_profile": _("Your Telegram profile has no username."),
    # policy: refusals (adverse action)
    "refusal_account_frozen": _("Your account is frozen."),
    "refusal_no_verified_wallet": _("You have no verified wallet."),
    "refusal_verification_needed": _("Your verification level does not allow borrowing."),
    "refusal_unresolved_default": _("You have a defaulted loan that is not settled."),
    "refusal_loan_overdue": _("You have an installment past due."),
    "refusal_score_too_low": _("Your credit score is below our minimum."),
    "refusal_borrowing_limit_reached": _("You have reached your borrowing limit."),
    "refusal_term_too_long": _("The term is too long for your grade; choose a shorter one."),
    "refusal_by_reviewer": _("A reviewer declined the application."),
    # policy: offers and reviews
    "offer_amount_reduced": _("We can offer less than you asked for."),
    "review_large_amount": _("Large amounts are checked by a person."),
    "review_high_risk": _("Your application needs a check by a person."),
}


def reason_text(key: str) -> str:
    """The text of a reason key in the active language (the key itself if unknown)."""
    text = REASON_TEXTS.get(key)
    return str(text) if text is not None else key
