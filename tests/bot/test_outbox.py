"""Core's notification outbox is delivered through the sender, once per dedupe key, in each
recipient's language; failures are sorted into retry-later and never-again."""

from __future__ import annotations

from bot.outbox import deliver_outbox_once
from core.notifications.models import OutboxMessage, OutboxStatus
from core.notifications.services import notification_enqueue
from core.users.services import user_get_or_create_from_telegram
from tests.bot.harness import PEOPLE
from tests.bot.test_sender import fault


def person(key: str):
    data = PEOPLE[key]
    return user_get_or_create_from_telegram(telegram_id=data["id"], username=data["username"],
                                            first_name=data["first_name"],
                                            language_code=data["language_code"])[0]


def enqueue(key: str, template: str, dedupe: str, **params):
    return notification_enqueue(recipient=person(key), template_key=template, dedupe_key=dedupe,
                                params=params)[0]


def test_it_delivers_each_message_once_in_the_recipients_language(run_bot):
    for key in ("alice", "reza", "olga"):
        enqueue(key, "installment_due_soon", f"due:{key}", amount=125_500_000, loan_id=42,
                due_date="2026-12-05")
    enqueue("alice", "installment_due_soon", "due:alice", amount=1, loan_id=1,
            due_date="2026-12-05")  # the same event again: not a second message

    async def scenario(chat):
        for key in ("alice", "reza", "olga"):
            chat.meet(key)
        assert await deliver_outbox_once(chat.runtime.bot) == 3
        assert await deliver_outbox_once(chat.runtime.bot) == 0
        sent = {c["params"]["chat_id"]: c["params"]["text"] for c in chat.calls("sendMessage")}
        return sent

    sent = run_bot(scenario)
    assert sent[1001] == ("Reminder: 125.50\u00a0USDx for loan #42 is due on December 5, 2026. "
                          "Send /repay to pay it.")
    assert sent[1104].startswith("یادآوری: مبلغ ۱۲۵٫۵۰\u00a0USDx برای وام شمارهٔ ۴۲")
    assert "5 декабря 2026" in sent[1103]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert all(OutboxMessage.objects.values_list("telegram_message_id", flat=True))


def test_an_unknown_template_is_a_recorded_permanent_failure(run_bot):
    enqueue("alice", "no_such_template", "x:1")

    async def scenario(chat):
        chat.meet("alice")
        await deliver_outbox_once(chat.runtime.bot)

    run_bot(scenario)
    message = OutboxMessage.objects.get(dedupe_key="x:1")
    assert message.status == OutboxStatus.FAILED
    assert "unknown template" in message.last_error


def test_a_blocked_recipient_fails_for_good_and_is_marked_unreachable(run_bot):
    enqueue("bob", "repayment_received", "paid:1", amount=10_000_000, loan_id=7)

    async def scenario(chat):
        chat.meet("bob")
        chat.emulator.call(lambda: setattr(chat.emulator.emulator.state.people[1002],
                                           "blocked_bot", True))
        await deliver_outbox_once(chat.runtime.bot)

    run_bot(scenario)
    message = OutboxMessage.objects.select_related("recipient").get(dedupe_key="paid:1")
    assert message.status == OutboxStatus.FAILED and "unreachable" in message.last_error
    assert message.recipient.unreachable_since is not None


def test_a_long_429_storm_sends_the_message_back_to_wait(run_bot):
    enqueue("alice", "loan_funded", "funded:9", amount=300_000_000, loan_id=9)

    async def scenario(chat):
        chat.meet("alice")
        chat.runtime.application.bot.rate_limiter.max_retries = 0
        fault(chat, method="sendMessage", count=1, code=429,
              description="Too Many Requests: retry after 30", retry_after=30)
        await deliver_outbox_once(chat.runtime.bot)
        assert await deliver_outbox_once(chat.runtime.bot) == 0  # not due for 30 s

    run_bot(scenario)
    message = OutboxMessage.objects.get(dedupe_key="funded:9")
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert message.last_error == "Flood control exceeded. Retry in 0:00:30"


def test_two_deliverers_at_once_send_each_message_once(run_bot):
    for index in range(20):
        enqueue("alice", "repayment_received", f"paid:{index}", amount=index + 1, loan_id=index)

    async def scenario(chat):
        import asyncio

        chat.meet("alice")
        counts = await asyncio.gather(deliver_outbox_once(chat.runtime.bot, limit=7),
                                      deliver_outbox_once(chat.runtime.bot, limit=7),
                                      deliver_outbox_once(chat.runtime.bot, limit=7))
        while await deliver_outbox_once(chat.runtime.bot):
            pass
        texts = [c["params"]["text"] for c in chat.calls("sendMessage")]
        return sum(counts), texts

    _, texts = run_bot(scenario)
    assert len(texts) == 20 and len(set(texts)) == 20
