"""/verify: raise one's verification level (KYC tier) with documents. The bot says what the
next level allows, asks for a photo of an identity document, then for a selfie, fetches both
from Telegram and hands them to core, which stores them encrypted for the operators' review
(core/kyc). The decision arrives through the outbox (bot/notifications/kyc.py)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import Update
from telegram.error import TelegramError

from bot import files
from bot.cards import missing_text, tier_label
from bot.conversation import END, BotContext, command
from bot.dbcall import run_in_db
from bot.i18n import format_amount, format_number
from bot.journeys import Journey
from bot.replies import say
from core.chat.services import chat_updates_forget
from core.common.errors import ServiceError
from core.kyc.models import DocumentKind
from core.kyc.selectors import kyc_next_tier
from core.kyc.services import Upload, kyc_request_check, kyc_request_submit
from core.users.selectors import onboarding_gaps

DOCUMENT, SELFIE = "verify.document", "verify.selfie"


async def verify(update: Update, context: BotContext) -> str:
    person, language = context.person, context.person.language
    context.session.draft = {}
    if onboarding_gaps(user=person):
        await say(update, missing_text(person))
        return END
    try:
        await run_in_db(kyc_request_check, user=person)
    except ServiceError as error:
        await say(update, str(error))
        return END
    step = await run_in_db(kyc_next_tier, user=person)
    await say(update, "\n\n".join([
        _("Verifying your identity raises your level from %(current)s to %(target)s: you could "
          "then borrow up to %(limit)s in all, instead of %(now)s.") % {
            "current": tier_label(step.current), "target": tier_label(step.target),
            "limit": format_amount(step.target_limit, language),
            "now": format_amount(step.current_limit, language)},
        _("I need two photos: your identity document (passport, national identity card or "
          "driving licence; the page with your photo, all four corners visible), then a "
          "selfie."),
        _("They are stored encrypted, seen only by our verification team, and deleted "
          "%(days)s days after the decision.") % {
            "days": format_number(settings.KYC_DOCUMENT_RETENTION_DAYS, language)},
        _("First, send the photo of your identity document. /cancel stops."),
    ]))
    return DOCUMENT


async def _image(update: Update, hint: str) -> files.SentImage | None:
    """The image of the message, or a reply saying what is expected (and None)."""
    try:
        image = files.image_of(update.effective_message)
    except files.NotAnImage:
        await say(update, _("This file is not a JPEG or PNG image. Please send it as a photo, "
                            "or as a JPEG or PNG file."))
        return None
    if image is None:
        await say(update, hint)
        return None
    if image.size is not None and image.size > settings.KYC_MAX_DOCUMENT_BYTES:
        await say(update, _("That image is too large. Please send a smaller photo."))
        return None
    return image


async def document_sent(update: Update, context: BotContext) -> str | None:
    image = await _image(update, _("Please send a photo of your identity document (the "
                                   "paperclip, then Photo), or /cancel to stop."))
    if image is None:
        return None
    context.session.draft = {"document": image.file_id,
                             "document_update": update.update_id}
    await say(update, _("Thank you. Now a selfie, please: a photo of your face, well lit, with "
                        "nothing covering it."))
    return SELFIE


async def selfie_sent(update: Update, context: BotContext) -> str | None:
    image = await _image(update, _("Please send a selfie as a photo, or /cancel to stop."))
    if image is None:
        return None
    try:
        document = await files.download(context.bot, context.session.draft["document"])
        selfie = await files.download(context.bot, image.file_id)
    except TelegramError:
        await say(update, _("I could not fetch your photos from Telegram. Please send /verify "
                            "to start again."))
        return END
    try:
        await run_in_db(kyc_request_submit, user=context.person, uploads=[
            Upload(kind=DocumentKind.ID_DOCUMENT, data=document),
            Upload(kind=DocumentKind.SELFIE, data=selfie)])
    except ServiceError as error:
        await say(update, str(error) + " " + _("Send /verify to start again."))
        return END
    # The photos are stored encrypted now: the updates that carried their file ids keep
    # nothing of them (the file id and the token would fetch the photo from Telegram again).
    await run_in_db(chat_updates_forget, chat_id=update.effective_chat.id,
                    update_ids=[context.session.draft.get("document_update", 0),
                                update.update_id])
    await say(update, _("Thank you: your documents are with our verification team. I will tell "
                        "you here as soon as they are checked."))
    return END


def build_handlers() -> Journey:
    return Journey(
        name="verify",
        handlers=[command("verify", verify)],
        steps={DOCUMENT: document_sent, SELFIE: selfie_sent},
        commands=[("verify", gettext_lazy("verify your identity to borrow more"))],
    )
