"""The review queue: applications that scoring sent to a person, approved with a tap or
rejected with a typed reason kept in the loan's history."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from telegram import Update

from bot.conversation import END, BotContext
from bot.dbcall import in_db, run_in_db
from bot.i18n import format_amount, format_date, format_number, localize_digits
from bot.journeys.admin.access import KIND, admin_step, typed_reason
from bot.notifications.admin import review_buttons
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from core.common.errors import ServiceError
from core.loans.models import Loan
from core.scoring.reasons import reason_text
from core.scoring.review import review_approve, review_reject
from core.scoring.selectors import review_item, review_queue_head

REJECT_REASON = "admin.reject_reason"
QUEUE_SHOWN = 10


@in_db
def _queue() -> tuple[list[Loan], int]:
    return review_queue_head(limit=QUEUE_SHOWN)


@in_db
def _in_review(loan_id: int) -> Loan | None:
    return review_item(loan_id=loan_id)


def review_item_text(loan: Loan, language: str) -> str:
    lines = [_("Application #%(loan)s: %(amount)s over %(count)s installments, grade "
               "%(grade)s, score %(score)s.")
             % {"loan": localize_digits(str(loan.pk), language),
                "amount": format_amount(loan.principal, language),
                "count": format_number(loan.installments, language), "grade": loan.grade or "–",
                "score": format_number(loan.score or 0, language)}]
    if loan.review_since:
        lines.append(_("Waiting since %(date)s.") % {"date": format_date(loan.review_since,
                                                                          language)})
    reasons = list(loan.offer_reasons or [])
    if reasons:
        lines += [_("What shaped the score:"), *(f"• {reason_text(key)}" for key in reasons)]
    return "\n".join(lines)


async def queue_pressed(update: Update, context: BotContext, _target: int | None) -> None:
    await answer_button(update)
    language = context.person.language
    loans, total = await _queue()
    if not loans:
        await replace_or_say(update, _("No application waits for review."),
                             markup=keyboard([button(_("Back"), KIND, "home")]))
        return
    lines = [ngettext("%(count)s application waits for review, oldest first:",
                      "%(count)s applications wait for review, oldest first:", total)
             % {"count": format_number(total, language)}]
    rows = [[button(_("#%(loan)s · %(amount)s · grade %(grade)s")
                    % {"loan": localize_digits(str(loan.pk), language),
                       "amount": format_amount(loan.principal, language),
                       "grade": loan.grade or "–"}, KIND, "it", loan.pk)] for loan in loans]
    rows.append([button(_("Back"), KIND, "home")])
    await replace_or_say(update, "\n".join(lines), markup=keyboard(*rows))


async def item_pressed(update: Update, context: BotContext, loan_id: int | None) -> None:
    loan = await _in_review(loan_id)
    if loan is None:
        await answer_button(update, _("This application is no longer waiting for review."),
                            alert=True)
        return
    await answer_button(update)
    await say(update, review_item_text(loan, context.person.language),
              markup=review_buttons(loan.pk))


async def approve_pressed(update: Update, context: BotContext, loan_id: int | None) -> None:
    loan = await _in_review(loan_id)
    if loan is None:
        await answer_button(update, _("This application is no longer waiting for review."),
                            alert=True)
        return
    try:
        await run_in_db(review_approve, loan=loan, reviewer=context.person,
                        note="approved in chat")
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update)
    await replace_or_say(update, _("Application #%(loan)s is approved; the borrower has the "
                                   "offer.") % {"loan": localize_digits(str(loan_id),
                                                                         context.person.language)},
                         markup=keyboard([button(_("Review queue"), KIND, "q")]))


async def reject_pressed(update: Update, context: BotContext,
                         loan_id: int | None) -> str | None:
    if await _in_review(loan_id) is None:
        await answer_button(update, _("This application is no longer waiting for review."),
                            alert=True)
        return None
    await answer_button(update)
    context.session.draft = {"loan_id": loan_id}
    await say(update, _("Why do you reject application #%(loan)s? Type the reason: it is kept "
                        "in the loan's history. The borrower is told that a reviewer declined "
                        "it, with the reasons behind their score. /cancel keeps it in review.")
              % {"loan": localize_digits(str(loan_id), context.person.language)})
    return REJECT_REASON


@admin_step
async def reject_reason_typed(update: Update, context: BotContext) -> str | None:
    reason = await typed_reason(update)
    if reason is None:
        return None
    loan = await _in_review(int(context.session.draft.get("loan_id", 0)))
    if loan is None:
        await say(update, _("This application is no longer waiting for review."))
        return END
    try:
        await run_in_db(review_reject, loan=loan, reviewer=context.person,
                        reason=reason)
    except ServiceError as error:
        await say(update, str(error))
        return END
    await say(update, _("Application #%(loan)s is rejected; the borrower has been told.")
              % {"loan": localize_digits(str(loan.pk), context.person.language)},
              markup=keyboard([button(_("Review queue"), KIND, "q")]))
    return END
