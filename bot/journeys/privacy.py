"""/privacy: what is kept about the person and why, a file with everything held about them,
and the erasure of what the law allows (core/privacy/services.py decides what that is and
refuses while a loan or a position still needs to reach them)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import Update

from bot.conversation import END, BotContext, action_button, command, step_button
from bot.dbcall import run_in_db
from bot.i18n import format_number
from bot.journeys import Journey
from bot.replies import (
    answer_button,
    button,
    buttons_expected,
    keyboard,
    replace_or_say,
    say,
)
from core.common.errors import ServiceError
from core.privacy.services import privacy_erase, privacy_erasure_blockers, privacy_export_file

KIND = "priv"
CONFIRM = "privacy.confirm"


async def privacy(update: Update, context: BotContext) -> str:
    language = context.person.language
    await say(update, "\n\n".join([
        _("Your data at Lendgram."),
        _("To run your account we keep your Telegram names and username, your phone number, "
          "your wallet address, your answers about income and work, and the photos of your "
          "identity document if you sent them (deleted %(days)s days after they are "
          "checked).") % {"days": format_number(settings.KYC_DOCUMENT_RETENTION_DAYS,
                                                 language)},
        _("Lending records must be kept for as long as the law says, even if you ask us to "
          "delete your data: your loans, funding positions, repayments, ledger statement, "
          "signing requests, scores and verification decisions. Your wallet's transactions "
          "are on the public chain, which nobody can erase."),
        _("You can download everything we hold about you as a file, or ask us to delete what "
          "the law allows."),
    ]), markup=keyboard([button(_("Download my data"), KIND, "exp")],
                        [button(_("Delete my data"), KIND, "del")]))
    return END


async def export_pressed(update: Update, context: BotContext, args: tuple[str, ...]) -> None:
    await answer_button(update)
    data = await run_in_db(privacy_export_file, user=context.person)
    # To the person's own chat: a press can come without its message (too old to reach).
    await context.bot.send_document(
        chat_id=context.person.telegram_id, document=data,
        filename=f"lendgram-my-data-{timezone.now():%Y-%m-%d}.json",
        caption=_("Everything we hold about you, as JSON. Amounts are in base units of the "
                  "token (6 decimals). The identity photos are not in it: you have the "
                  "originals."))


async def delete_pressed(update: Update, context: BotContext, args: tuple[str, ...]) -> str:
    await answer_button(update)
    blockers = await run_in_db(privacy_erasure_blockers, user=context.person)
    if blockers:
        await say(update, "\n".join([_("I cannot delete your data yet."), *blockers,
                                     _("/privacy again once that is done.")]))
        return END
    nonce = context.session.next_nonce
    await say(update, _("Delete your data? Your phone number, names and username, identity "
                        "photos, income and work answers, conversation drafts and the texts of "
                        "our past messages are erased for good. Your lending records stay. To "
                        "borrow again you would share your phone number anew."),
              markup=keyboard([button(_("Yes, delete my data"), KIND, nonce, "erase", "yes")],
                              [button(_("No, keep it"), KIND, nonce, "erase", "no")]))
    return CONFIRM


async def erase_chosen(update: Update, context: BotContext, value: str) -> str:
    if value != "yes":
        await replace_or_say(update, _("Nothing was deleted."))
        return END
    try:
        context.person = await run_in_db(privacy_erase, user=context.person)
    except ServiceError as error:
        await replace_or_say(update, _("I cannot delete your data yet.") + " " + str(error))
        return END
    await replace_or_say(update, _("Done: your personal data is erased. The lending records "
                                   "the law requires are kept. /privacy shows what remains."))
    return END


def build_handlers() -> Journey:
    return Journey(
        name="privacy",
        handlers=[
            command("privacy", privacy),
            action_button(KIND, "exp", export_pressed),
            action_button(KIND, "del", delete_pressed),
            step_button(KIND, "erase", CONFIRM, erase_chosen,
                        valid=lambda value, draft: value in ("yes", "no")),
        ],
        steps={CONFIRM: buttons_expected},
        commands=[("privacy", gettext_lazy("your data: download it or delete it"))],
    )
