"""Reads about chats: sessions and recorded updates."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.chat.models import ChatSession, ReceivedUpdate, UpdateStatus


def chat_session_get(*, chat_id: int, user_id: int) -> ChatSession | None:
    """The live session, or None; a session idle for longer than CHAT_SESSION_TTL has lapsed,
    so a person who comes back days later starts afresh instead of mid-question."""
    return chat_session_live(ChatSession.objects.filter(chat_id=chat_id, user_id=user_id).first())


def chat_session_live(session: ChatSession | None) -> ChatSession | None:
    """The session as stored, or None when it has lapsed (mid-conversation, idle too long)."""
    if session is None or not session.step:
        return session
    if session.updated_at < timezone.now() - timedelta(seconds=settings.CHAT_SESSION_TTL_S):
        return None
    return session


def chats_with_pending_updates(*, older_than_s: float = 0.0, limit: int = 500) -> list[int]:
    """Chats whose updates wait for a handler: after a restart, or when a process died."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    return list(ReceivedUpdate.objects
                .filter(status=UpdateStatus.PENDING, received_at__lte=cutoff)
                .order_by("chat_id").values_list("chat_id", flat=True).distinct()[:limit])
