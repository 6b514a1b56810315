"""Writes about chats: recording updates once, conversation sessions, per-chat leases."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.chat.models import ChatLease, ChatSession, ReceivedUpdate, UpdateStatus


def update_record(*, update_id: int, chat_id: int, payload: dict) -> bool:
    """Record an incoming update once; False when this update id was seen before."""
    try:
        with transaction.atomic():
            ReceivedUpdate.objects.create(update_id=update_id, chat_id=chat_id,
                                          payload=_storable(payload))
    except IntegrityError:
        return False
    return True


def _storable(value):
    """PostgreSQL's JSON cannot hold NUL characters; anyone can send them (in a button's data,
    say), and an update that cannot be stored would be redelivered forever."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def update_mark_handled(*, update_id: int) -> None:
    ReceivedUpdate.objects.filter(update_id=update_id, status=UpdateStatus.PENDING).update(
        status=UpdateStatus.HANDLED, handled_at=timezone.now())


def updates_prune(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Forget handled updates once Telegram can no longer redeliver them (it keeps 24 h)."""
    deleted, _ = (ReceivedUpdate.objects
                  .filter(status=UpdateStatus.HANDLED, received_at__lt=timezone.now() - older_than)
                  .delete())
    return deleted


def chat_lease_acquire(*, chat_id: int, owner: str, ttl_s: float = 30.0) -> bool:
    """Take (or extend) the right to handle a chat's updates; False if another process has it.

    A conditional UPDATE decides: zero rows changed means someone else holds a live lease.
    """
    now = timezone.now()
    claimable = (ChatLease.objects
                 .filter(Q(owner="") | Q(owner=owner) | Q(leased_until__lt=now), chat_id=chat_id))
    if claimable.update(owner=owner, leased_until=now + timedelta(seconds=ttl_s)):
        return True
    # Zero rows: the chat is someone else's, or has no lease row yet (its first update).
    ChatLease.objects.bulk_create(
        [ChatLease(chat_id=chat_id, owner=owner, leased_until=now + timedelta(seconds=ttl_s))],
        ignore_conflicts=True)
    return ChatLease.objects.filter(chat_id=chat_id, owner=owner).exists()


def chat_lease_release(*, chat_id: int, owner: str) -> None:
    ChatLease.objects.filter(chat_id=chat_id, owner=owner).update(owner="", leased_until=None)


def chat_session_save(*, chat_id: int, user_id: int, step: str, draft: dict,
                      new_nonce: bool) -> ChatSession:
    """Store where the person is now; a new step gets a new nonce, which retires every
    button shown for an earlier step."""
    values = {"step": step, "draft": draft, "updated_at": timezone.now()}
    if new_nonce:
        values["nonce"] = secrets.token_urlsafe(6)[:8]
    session, created = ChatSession.objects.get_or_create(
        chat_id=chat_id, user_id=user_id, defaults=values)
    if not created:
        for field, value in values.items():
            setattr(session, field, value)
        session.save(update_fields=list(values))
    return session


def chat_session_clear(*, chat_id: int, user_id: int) -> None:
    """Leave any conversation (/cancel, or a journey's end); buttons shown so far go stale."""
    ChatSession.objects.filter(chat_id=chat_id, user_id=user_id).update(
        step="", draft={}, nonce=secrets.token_urlsafe(6)[:8], updated_at=timezone.now())
