"""Writes about chats: recording updates once, conversation sessions, per-chat leases."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.chat.models import ChatLease, ChatSession, ReceivedUpdate, UpdateStatus
from core.chat.selectors import chat_session_get, chat_session_live
from core.common.rows import FieldReader, ModelColumns
from core.users.models import TelegramUser
from core.users.services import user_get_or_create_from_telegram, user_refresh_from_telegram

# Every update passes these statements, so each is one round trip: INSERT ... ON CONFLICT
# instead of a savepoint, an INSERT and a caught IntegrityError (PostgreSQL and SQLite alike).
_UPDATES = ReceivedUpdate._meta.db_table
_LEASES = ChatLease._meta.db_table
# Table names come from the models; every value is a bound parameter.
_RECORD_SQL = (f"INSERT INTO {_UPDATES} (update_id, chat_id, payload, status, received_at)"  # noqa: S608
               " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (update_id) DO NOTHING"
               " RETURNING update_id")
_ACQUIRE_SQL = (f"INSERT INTO {_LEASES} (chat_id, owner, leased_until) VALUES (%s, %s, %s)"  # noqa: S608
                " ON CONFLICT (chat_id) DO UPDATE"
                " SET owner = excluded.owner, leased_until = excluded.leased_until"
                f" WHERE {_LEASES}.owner = '' OR {_LEASES}.owner = excluded.owner"
                f" OR {_LEASES}.leased_until < %s RETURNING chat_id")
_MARK_HANDLED_SQL = (f"UPDATE {_UPDATES} SET status = %s, handled_at = %s"  # noqa: S608
                     " WHERE update_id = %s AND status = %s")
_PENDING_SQL = (f"SELECT update_id, payload FROM {_UPDATES}"  # noqa: S608
                " WHERE chat_id = %s AND status = %s ORDER BY update_id LIMIT %s")
_PAYLOAD = FieldReader(ReceivedUpdate, "payload")
_RELEASE_IF_IDLE_SQL = (f"UPDATE {_LEASES} SET owner = '', leased_until = NULL"  # noqa: S608
                        " WHERE chat_id = %s AND owner = %s AND NOT EXISTS ("
                        f"SELECT 1 FROM {_UPDATES} WHERE chat_id = %s AND status = %s)")


def _db_value(model, field: str, value):
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def update_record(*, update_id: int, chat_id: int, payload: dict) -> bool:
    """Record an incoming update once; False when this update id was seen before."""
    params = (update_id, chat_id, _db_value(ReceivedUpdate, "payload", _storable(payload)),
              UpdateStatus.PENDING.value, _db_value(ReceivedUpdate, "received_at", timezone.now()))
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL, params)
        return cursor.fetchone() is not None


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
    with connection.cursor() as cursor:
        cursor.execute(_MARK_HANDLED_SQL, (
            UpdateStatus.HANDLED.value, _db_value(ReceivedUpdate, "handled_at", timezone.now()),
            update_id, UpdateStatus.PENDING.value))


def updates_prune(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Forget handled updates once Telegram can no longer redeliver them (it keeps 24 h)."""
    deleted, _ = (ReceivedUpdate.objects
                  .filter(status=UpdateStatus.HANDLED, received_at__lt=timezone.now() - older_than)
                  .delete())
    return deleted


def chat_lease_acquire(*, chat_id: int, owner: str, ttl_s: float = 30.0) -> bool:
    """Take (or extend) the right to handle a chat's updates; False if another process has it.

    One conditional upsert decides: no row back means someone else holds a live lease.
    """
    now = timezone.now()
    until = _db_value(ChatLease, "leased_until", now + timedelta(seconds=ttl_s))
    with connection.cursor() as cursor:
        cursor.execute(_ACQUIRE_SQL, (chat_id, owner, until,
                                      _db_value(ChatLease, "leased_until", now)))
        return cursor.fetchone() is not None


def chat_lease_release(*, chat_id: int, owner: str) -> None:
    ChatLease.objects.filter(chat_id=chat_id, owner=owner).update(owner="", leased_until=None)


def chat_lease_release_if_idle(*, chat_id: int, owner: str) -> bool:
    """Give the chat up only if none of its updates waits, in one statement: a check and a
    release apart would let an update recorded in between wait for the sweep."""
    with connection.cursor() as cursor:
        cursor.execute(_RELEASE_IF_IDLE_SQL, (chat_id, owner, chat_id,
                                              UpdateStatus.PENDING.value))
        return cursor.rowcount > 0


# --- the dispatcher's units of work: each is one transaction, so one commit -------------------
#
# A commit waits for its WAL flush, which on a busy disk costs milliseconds: that, not the
# statements, was most of an update's database time (five commits per update before).

def _commit_lazily() -> None:
    """Bookkeeping (handled marks, leases) need not wait for its WAL flush: lost in a
    database crash, it only means an update is handled again, as after a bot crash between
    handling and marking, which the design already accepts. Never used for the record of an
    update, which must be durable before Telegram hears 200."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _pending(chat_id: int, limit: int) -> list[tuple[int, dict]]:
    """Recorded but unhandled (update_id, payload) of one chat, oldest id first (Telegram's
    order)."""
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_SQL, (chat_id, UpdateStatus.PENDING.value, limit))
        rows = cursor.fetchall()
    return [(update_id, _PAYLOAD.read(payload, connection)) for update_id, payload in rows]


def _claim(chat_id: int, owner: str, ttl_s: float, limit: int) -> list[tuple[int, dict]] | None:
    if not chat_lease_acquire(chat_id=chat_id, owner=owner, ttl_s=ttl_s):
        return None
    pending = _pending(chat_id, limit)
    if pending or chat_lease_release_if_idle(chat_id=chat_id, owner=owner):
        return pending
    return _pending(chat_id, limit)  # one came in between the two statements


def chat_updates_claim(*, chat_id: int, owner: str, ttl_s: float,
                       limit: int = 50) -> list[tuple[int, dict]] | None:
    """Take the chat's lease and its waiting (update_id, payload), oldest first; None when
    another process holds the chat. With nothing waiting the chat is given up again."""
    with transaction.atomic():
        _commit_lazily()
        return _claim(chat_id, owner, ttl_s, limit)


def update_record_and_claim(*, update_id: int, chat_id: int, payload: dict, owner: str,
                            ttl_s: float, limit: int = 50
                            ) -> tuple[bool, list[tuple[int, dict]] | None]:
    """Record an update and take its chat in one (durable) commit: (recorded, claimed) where
    recorded is False for a duplicate and claimed is as chat_updates_claim's."""
    with transaction.atomic():
        if not update_record(update_id=update_id, chat_id=chat_id, payload=payload):
            return False, None
        return True, _claim(chat_id, owner, ttl_s, limit)


def update_done(*, update_id: int, chat_id: int, owner: str, ttl_s: float, last: bool,
                limit: int = 50) -> list[tuple[int, dict]] | None:
    """Mark an update handled. After the last one the dispatcher holds, give the chat up if
    nothing waits; otherwise renew the lease (a long-running chat would lose it after ttl_s
    to another process) and return what waits, or None when the lease was lost."""
    with transaction.atomic():
        _commit_lazily()
        update_mark_handled(update_id=update_id)
        if not last or chat_lease_release_if_idle(chat_id=chat_id, owner=owner):
            return []
        if not chat_lease_acquire(chat_id=chat_id, owner=owner, ttl_s=ttl_s):
            return None
        return _pending(chat_id, limit)


def chat_session_save(*, chat_id: int, user_id: int, step: str, draft: dict,
                      new_nonce: bool) -> str:
    """Store where the person is now and return the session's nonce; a new step gets a new
    nonce, which retires every button shown for an earlier step. One UPDATE for a known
    person (the usual case)."""
    values = {"step": step, "draft": draft, "updated_at": timezone.now()}
    if new_nonce:
        values["nonce"] = secrets.token_urlsafe(6)[:8]
    sessions = ChatSession.objects.filter(chat_id=chat_id, user_id=user_id)
    if not sessions.update(**values):
        try:
            with transaction.atomic():
                return ChatSession.objects.create(chat_id=chat_id, user_id=user_id,
                                                  **values).nonce
        except IntegrityError:  # created meanwhile by another process: update that one
            sessions.update(**values)
    if new_nonce:
        return values["nonce"]
    return sessions.values_list("nonce", flat=True).first() or ""


def chat_session_clear(*, chat_id: int, user_id: int) -> None:
    """Leave any conversation (/cancel, or a journey's end); buttons shown so far go stale."""
    ChatSession.objects.filter(chat_id=chat_id, user_id=user_id).update(
        step="", draft={}, nonce=secrets.token_urlsafe(6)[:8], updated_at=timezone.now())


# --- who wrote, and where they are: the first thing every update needs -----------------------

_PERSON = ModelColumns(TelegramUser, "u")
_SESSION = ModelColumns(ChatSession, "s")
_ARRIVAL_SQL = (f"SELECT {_PERSON.sql}, {_SESSION.sql}"  # noqa: S608
                f" FROM {TelegramUser._meta.db_table} u"
                f" LEFT JOIN {ChatSession._meta.db_table} s"
                "  ON s.chat_id = %s AND s.user_id = u.telegram_id"
                " WHERE u.telegram_id = %s")


def chat_arrival(*, chat_id: int, telegram_id: int, username: str = "", first_name: str = "",
                 last_name: str = "", language_code: str | None = None
                 ) -> tuple[TelegramUser, ChatSession | None]:
    """The person an update comes from, refreshed from what Telegram says about them, and
    their live conversation session in this chat (None: none, or it lapsed).

    A known person costs one statement (a join), since every update asks this; someone new is
    made as user_get_or_create_from_telegram makes them.
    """
    with connection.cursor() as cursor:
        cursor.execute(_ARRIVAL_SQL, (chat_id, telegram_id))
        row = cursor.fetchone()
    if row is None:
        person, _ = user_get_or_create_from_telegram(
            telegram_id=telegram_id, username=username, first_name=first_name,
            last_name=last_name, language_code=language_code)
        return person, chat_session_get(chat_id=chat_id, user_id=telegram_id)
    person = _PERSON.build(row[:_PERSON.width], connection)
    user_refresh_from_telegram(user=person, username=username, first_name=first_name,
                               last_name=last_name)
    stored = row[_PERSON.width:]
    session = None if stored[0] is None else _SESSION.build(stored, connection)
    return person, chat_session_live(session)
