"""Writes about chats: recording updates once, conversation sessions, per-chat leases."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from core.chat.models import ChatLease, ChatSession, ReceivedUpdate, UpdateStatus
from core.chat.selectors import chat_session_get, chat_session_live
from core.common.rows import FieldReader, ModelColumns
from core.common.statements import Outcome, Statement, run_one, run_together
from core.users.models import TelegramUser
from core.users.services import user_get_or_create_from_telegram, user_refresh_from_telegram

# Every update passes these statements, so each is one round trip: INSERT ... ON CONFLICT
# instead of a savepoint, an INSERT and a caught IntegrityError (PostgreSQL and SQLite alike),
# and the dispatcher's units of work send theirs together (core/common/statements.py).
_UPDATES = ReceivedUpdate._meta.db_table
_LEASES = ChatLease._meta.db_table
_SESSIONS = ChatSession._meta.db_table
# Table names come from the models; every value is a bound parameter.
_RECORD_SQL = (f"INSERT INTO {_UPDATES} (update_id, chat_id, payload, status, received_at)"  # noqa: S608
               " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (update_id) DO NOTHING"
               " RETURNING update_id")
_ACQUIRE_SQL = (f"INSERT INTO {_LEASES} (chat_id, owner, leased_until) VALUES (%s, %s, %s)"  # noqa: S608
                " ON CONFLICT (chat_id) DO UPDATE"
                " SET owner = excluded.owner, leased_until = excluded.leased_until"
                f" WHERE {_LEASES}.owner = '' OR {_LEASES}.owner = excluded.owner"
                f" OR {_LEASES}.leased_until < %s RETURNING chat_id")
_RENEW_SQL = (f"UPDATE {_LEASES} SET leased_until = %s"  # noqa: S608
              " WHERE chat_id = %s AND owner = %s RETURNING chat_id")
_RELEASE_IF_IDLE_SQL = (f"UPDATE {_LEASES} SET owner = '', leased_until = NULL"  # noqa: S608
                        " WHERE chat_id = %s AND owner = %s AND NOT EXISTS ("
                        f"SELECT 1 FROM {_UPDATES} WHERE chat_id = %s AND status = %s)")
_MARK_HANDLED_SQL = (f"UPDATE {_UPDATES} SET status = %s, handled_at = %s"  # noqa: S608
                     " WHERE update_id = %s AND status = %s")
_PENDING_SQL = (f"SELECT update_id, payload FROM {_UPDATES}"  # noqa: S608
                " WHERE chat_id = %s AND status = %s ORDER BY update_id LIMIT %s")
_STORE_SESSION_SQL = (f"INSERT INTO {_SESSIONS}"  # noqa: S608
                      " (chat_id, user_id, step, draft, nonce, created_at, updated_at)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                      " ON CONFLICT (chat_id, user_id) DO UPDATE SET step = excluded.step,"
                      " draft = excluded.draft, nonce = excluded.nonce,"
                      " updated_at = excluded.updated_at")
_PAYLOAD = FieldReader(ReceivedUpdate, "payload")
_PENDING = UpdateStatus.PENDING.value


def _db_value(model, field: str, value):
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _record(update_id: int, chat_id: int, payload: dict) -> Statement:
    return _RECORD_SQL, (update_id, chat_id,
                         _db_value(ReceivedUpdate, "payload", _storable(payload)), _PENDING,
                         _db_value(ReceivedUpdate, "received_at", timezone.now()))


def _acquire(chat_id: int, owner: str, ttl_s: float) -> Statement:
    now = timezone.now()
    return _ACQUIRE_SQL, (chat_id, owner,
                          _db_value(ChatLease, "leased_until", now + timedelta(seconds=ttl_s)),
                          _db_value(ChatLease, "leased_until", now))


def _renew(chat_id: int, owner: str, ttl_s: float) -> Statement:
    until = timezone.now() + timedelta(seconds=ttl_s)
    return _RENEW_SQL, (_db_value(ChatLease, "leased_until", until), chat_id, owner)


def _release_if_idle(chat_id: int, owner: str) -> Statement:
    return _RELEASE_IF_IDLE_SQL, (chat_id, owner, chat_id, _PENDING)


def _mark_handled(update_id: int) -> Statement:
    return _MARK_HANDLED_SQL, (UpdateStatus.HANDLED.value,
                               _db_value(ReceivedUpdate, "handled_at", timezone.now()),
                               update_id, _PENDING)


def _pending(chat_id: int, limit: int) -> Statement:
    return _PENDING_SQL, (chat_id, _PENDING, limit)


def _store_session(*, chat_id: int, user_id: int, step: str, draft: dict,
                   nonce: str) -> Statement:
    now = _db_value(ChatSession, "updated_at", timezone.now())
    return _STORE_SESSION_SQL, (chat_id, user_id, step, _db_value(ChatSession, "draft", draft),
                                nonce, now, now)


def _updates(outcome: Outcome) -> list[tuple[int, dict]]:
    """(update_id, payload) rows of a _pending statement, payloads decoded."""
    return [(update_id, _PAYLOAD.read(payload, connection))
            for update_id, payload in outcome.rows]


def update_record(*, update_id: int, chat_id: int, payload: dict) -> bool:
    """Record an incoming update once; False when this update id was seen before."""
    return bool(run_one(_record(update_id, chat_id, payload)).rows)


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


# A handled update's row is what drops a redelivered copy (update_id is the primary key), and
# Telegram redelivers an unacknowledged update for up to 24 hours. Keep at least twice that:
# a copy sent at the very end of Telegram's window, held in a queue or behind a stalled bot,
# still finds its row.
UPDATES_KEEP_AT_LEAST = timedelta(hours=48)
UPDATES_KEEP = timedelta(days=7)


def updates_prune(*, older_than: timedelta = UPDATES_KEEP, now: datetime | None = None) -> int:
    """Forget handled updates received more than `older_than` ago (at least 48 hours: see
    UPDATES_KEEP_AT_LEAST); pending ones stay until handled. Returns how many were deleted."""
    if older_than < UPDATES_KEEP_AT_LEAST:
        raise ValueError(f"handled updates are kept at least {UPDATES_KEEP_AT_LEAST} for dedupe")
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = (ReceivedUpdate.objects
                  .filter(status=UpdateStatus.HANDLED, received_at__lt=cutoff).delete())
    return deleted


def chat_lease_release_if_idle(*, chat_id: int, owner: str) -> bool:
    """Give the chat up only if none of its updates waits, in one statement: a check and a
    release apart would let an update recorded in between wait for the sweep."""
    return run_one(_release_if_idle(chat_id, owner)).rowcount > 0


# --- the dispatcher's units of work: each one transaction, one round trip on PostgreSQL -------
#
# Bookkeeping (handled marks with the step they led to, leases) is committed without waiting
# for its WAL flush (durable=False): lost in a database crash, it only means an update is
# handled again from the step it started in, as after a bot crash between handling and
# marking, which the design already accepts. Never the record of an update, which must be
# durable before Telegram hears 200.


def chat_updates_claim(*, chat_id: int, owner: str, ttl_s: float,
                       limit: int = 50) -> list[tuple[int, dict]] | None:
    """Take the chat's lease and its waiting (update_id, payload), oldest first; None when
    another process holds the chat. With nothing waiting the chat is given up again."""
    acquired, pending, released = run_together(
        [_acquire(chat_id, owner, ttl_s), _pending(chat_id, limit),
         _release_if_idle(chat_id, owner)], durable=False)
    if not acquired.rows:
        return None  # the other two found nothing of ours to read or give up
    if pending.rows or released.rowcount:
        return _updates(pending)
    # One came in between the read and the release: the chat is still ours.
    return _updates(run_one(_pending(chat_id, limit)))


def update_record_and_claim(*, update_id: int, chat_id: int, payload: dict, owner: str,
                            ttl_s: float, limit: int = 50
                            ) -> tuple[bool, list[tuple[int, dict]] | None]:
    """Record an update and take its chat in one (durable) commit: (recorded, claimed) where
    recorded is False for a duplicate and claimed is as chat_updates_claim's (for a duplicate,
    whatever else of the chat waits)."""
    recorded, acquired, pending = run_together(
        [_record(update_id, chat_id, payload), _acquire(chat_id, owner, ttl_s),
         _pending(chat_id, limit)])
    claimed = _updates(pending) if acquired.rows else None
    if not recorded.rows and claimed == []:
        # A duplicate (rare), and nothing waits: give the chat back, unless one just came in.
        claimed = (None if chat_lease_release_if_idle(chat_id=chat_id, owner=owner)
                   else _updates(run_one(_pending(chat_id, limit))))
    return bool(recorded.rows), claimed


def update_done(*, update_id: int, chat_id: int, owner: str, ttl_s: float, last: bool,
                session: dict | None = None, limit: int = 50) -> list[tuple[int, dict]] | None:
    """Mark an update handled, storing the conversation step it led to (`session`: the
    keyword arguments of chat_session_store) in the same commit, so a crash loses both or
    neither and the update is then handled again from the step it started in.

    After the last update the dispatcher holds, give the chat up if nothing waits; otherwise
    renew the lease (a long-running chat would lose it after ttl_s to another process) and
    return what waits, or None when the lease was lost."""
    statements = [_store_session(**session)] if session is not None else []
    statements.append(_mark_handled(update_id))
    if last:
        statements += [_release_if_idle(chat_id, owner), _renew(chat_id, owner, ttl_s),
                       _pending(chat_id, limit)]
    outcomes = run_together(statements, durable=False)
    if not last:
        return []
    released, renewed, pending = outcomes[-3:]
    if released.rowcount:
        return []
    return _updates(pending) if renewed.rows else None


def chat_session_nonce() -> str:
    """A fresh session nonce: buttons carry the nonce of the step that showed them."""
    return secrets.token_urlsafe(6)[:8]


def chat_session_store(*, chat_id: int, user_id: int, step: str, draft: dict,
                       nonce: str) -> None:
    """Store where the person is now (step "" with an empty draft: no conversation). A new
    nonce retires every button shown for an earlier step. One upsert."""
    run_one(_store_session(chat_id=chat_id, user_id=user_id, step=step, draft=draft,
                           nonce=nonce))


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


def chat_person_forget(*, telegram_id: int) -> None:
    """Erasure: the person's conversation drafts are deleted and the text of the updates
    already handled in their chat is blanked. The update ids stay (a redelivered update must
    still be recognised); pending updates are left to be handled."""
    ChatSession.objects.filter(user_id=telegram_id).delete()
    ReceivedUpdate.objects.filter(chat_id=telegram_id, status=UpdateStatus.HANDLED).update(
        payload={})


def chat_updates_forget(*, chat_id: int, update_ids: list[int]) -> int:
    """Blank what these updates of the chat carried (an identity document's file id, which
    the bot token turns back into the photo) once it has been handed on; the ids stay for
    dedupe. An update blanked while still pending is, after a crash, skipped as empty."""
    return ReceivedUpdate.objects.filter(chat_id=chat_id, update_id__in=update_ids).update(
        payload={})

