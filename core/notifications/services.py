"""Queueing and claiming outbox messages. Delivery itself lives in the bot's sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.bulk import copy_insert
from core.common.errors import ServiceError
from core.notifications.models import Broadcast, OutboxMessage, OutboxStatus
from core.users.models import TelegramUser
from core.users.selectors import users_reachable

MAX_ATTEMPTS = 8
BROADCAST_MAX_CHARS = 3500  # Telegram takes 4096; the header and its translation need room
BROADCAST_BATCH = 1000
CLAIM_TTL = timedelta(minutes=2)


def notification_enqueue(
    *, recipient: TelegramUser, template_key: str, dedupe_key: str, params: dict | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue a message to a user once per dedupe key; returns (message, created)."""
    return _enqueue(recipient=recipient, chat_id=recipient.telegram_id, template_key=template_key,
                    dedupe_key=dedupe_key, params=params)


@dataclass(frozen=True)
class Notice:
    """One message to queue in a batch (see notifications_enqueue_many)."""

    recipient: TelegramUser
    template_key: str
    dedupe_key: str
    params: dict


def notifications_enqueue_many(*, notices: list[Notice]) -> None:
    """Queue many messages in one insert (COPY on PostgreSQL: the chain indexer's batches),
    each once per dedupe key: a key already in the outbox is skipped."""
    if any(not notice.dedupe_key or not notice.template_key for notice in notices):
        raise ServiceError(_("An outbox message needs a template and a dedupe key."))
    now = timezone.now()
    copy_insert(OutboxMessage, [
        OutboxMessage(recipient=notice.recipient, chat_id=notice.recipient.telegram_id,
                      template_key=notice.template_key, params=notice.params,
                      dedupe_key=notice.dedupe_key, next_attempt_at=now)
        for notice in notices], skip_conflicts=True)


def notify_admins(template_key: str, dedupe: str, params: dict, *,
                  reachable_only: bool = False) -> int:
    """Every admin (only those Telegram still reaches, if asked), once per `dedupe` key;
    returns how many messages were newly queued."""
    people = users_reachable() if reachable_only else TelegramUser.objects.all()
    admins = people.filter(is_admin=True).order_by("pk")
    return sum(notification_enqueue(recipient=admin, template_key=template_key,
                                    dedupe_key=f"{dedupe}:{admin.pk}", params=params)[1]
               for admin in admins)


def notification_enqueue_to_chat(
    *, chat_id: int, template_key: str, dedupe_key: str, params: dict | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue a message to a chat that is not a user (a channel), once per dedupe key."""
    return _enqueue(recipient=None, chat_id=chat_id, template_key=template_key,
                    dedupe_key=dedupe_key, params=params)


def _enqueue(*, recipient, chat_id, template_key, dedupe_key, params):
    if not dedupe_key or not template_key:
        raise ServiceError(_("An outbox message needs a template and a dedupe key."))
    existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                recipient=recipient, chat_id=chat_id, template_key=template_key,
                params=params or {}, dedupe_key=dedupe_key, next_attempt_at=timezone.now())
    except IntegrityError:
        return OutboxMessage.objects.get(dedupe_key=dedupe_key), False
    return message, True


def outbox_claim(*, limit: int = 100) -> list[OutboxMessage]:
    """Claim due messages for one sender; a message is claimed by one sender at a time.

    Each row is taken with a conditional UPDATE; zero rows updated means another sender got it.
    A claim that is not settled within CLAIM_TTL (the sender died) becomes claimable again.
    """
    now = timezone.now()
    due = (OutboxMessage.objects
           .filter(Q(status=OutboxStatus.PENDING)
                   | Q(status=OutboxStatus.SENDING, claimed_until__lt=now),
                   next_attempt_at__lte=now)
           .order_by("next_attempt_at", "pk").values_list("pk", "status", "claimed_until")[:limit])
    claimed = []
    for pk, status, claimed_until in due:
        won = (OutboxMessage.objects
               .filter(pk=pk, status=status, claimed_until=claimed_until)
               .update(status=OutboxStatus.SENDING, claimed_until=now + CLAIM_TTL,
                       attempts=F("attempts") + 1))
        if won:
            claimed.append(pk)
    return list(OutboxMessage.objects.filter(pk__in=claimed).select_related("recipient")
                .order_by("next_attempt_at", "pk"))


def outbox_mark_sent(*, message: OutboxMessage, telegram_message_id: int | None = None) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), claimed_until=None, last_error="",
        telegram_message_id=telegram_message_id)


def outbox_mark_retry(*, message: OutboxMessage, error: str,
                      retry_after: float | None = None) -> None:
    """A transient failure: try again later, with bounded exponential backoff."""
    message.refresh_from_db(fields=["attempts"])
    if message.attempts >= MAX_ATTEMPTS:
        outbox_mark_failed(message=message, error=f"gave up after {message.attempts} attempts: "
                                                  f"{error}")
        return
    delay = retry_after if retry_after is not None else min(2 ** message.attempts, 600)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.PENDING, claimed_until=None, last_error=error[:2000],
        next_attempt_at=timezone.now() + timedelta(seconds=delay))


def outbox_mark_failed(*, message: OutboxMessage, error: str) -> None:
    """A permanent failure (blocked bot, missing chat): never retried."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.FAILED, claimed_until=None, last_error=error[:2000])


def broadcast_enqueue(*, author: TelegramUser, text: str) -> Broadcast:
    """Queue one copy of an admin's message to every reachable user (the author too).

    Each copy's dedupe key is the broadcast and the recipient, so a retried or concurrent
    run never sends anyone the same broadcast twice. Users are read in keyset batches.
    """
    if not author.is_admin:
        raise ServiceError(_("Only an admin can send a broadcast."), code="not_admin")
    text = text.strip()
    if not text:
        raise ServiceError(_("A broadcast needs some text."), code="empty")
    if len(text) > BROADCAST_MAX_CHARS:
        raise ServiceError(_("A broadcast can have at most %(count)s characters.")
                           % {"count": BROADCAST_MAX_CHARS}, code="too_long")
    with transaction.atomic():
        broadcast = Broadcast.objects.create(author=author, text=text)
        reachable = users_reachable().order_by("pk")
        params = {"broadcast_id": broadcast.pk, "text": text}
        last_pk, queued, now = 0, 0, timezone.now()
        while batch := list(reachable.filter(pk__gt=last_pk)
                            .values_list("pk", "telegram_id")[:BROADCAST_BATCH]):
            OutboxMessage.objects.bulk_create(
                [OutboxMessage(recipient_id=pk, chat_id=telegram_id, template_key="broadcast",
                               params=params, next_attempt_at=now,
                               dedupe_key=f"broadcast:{broadcast.pk}:{pk}")
                 for pk, telegram_id in batch], ignore_conflicts=True)
            queued += len(batch)
            last_pk = batch[-1][0]
        broadcast.recipients = queued
        broadcast.save(update_fields=["recipients", "updated_at"])
    return broadcast


def notifications_forget_texts(*, recipient: TelegramUser) -> int:
    """Erasure: what was said in the messages already delivered (or given up) to the person
    is dropped; the rows stay, so their dedupe keys still keep anything from being sent
    twice. Messages still to deliver are left alone."""
    return (OutboxMessage.objects.filter(recipient=recipient)
            .exclude(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])
            .update(params={}, last_error="", updated_at=timezone.now()))
