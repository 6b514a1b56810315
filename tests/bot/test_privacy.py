"""/privacy through the emulator: what is kept and why, the data file sent in the chat, the
erasure asked for twice and refused while a loan runs, and stale confirmations ignored."""

from __future__ import annotations

import json

import pytest

from bot import callbacks
from core.loans import services as loans
from core.privacy.models import DataRequest
from core.users.models import TelegramUser
from tests import factories
from tests.bot.harness import PEOPLE

pytestmark = pytest.mark.django_db
USD = factories.USD


@pytest.fixture
def alice(db):
    return factories.borrower(telegram_id=PEOPLE["alice"]["id"], username="alice")


def file_content(chat, message: dict) -> bytes:
    state = chat.emulator.emulator.state
    return chat.emulator.call(lambda: state.files[message["document"]["file_id"]][0])


def test_privacy_says_what_is_kept_and_why(run_bot, alice):
    async def scenario(chat):
        return await chat.say("alice", "/privacy")

    [reply] = run_bot(scenario)
    assert reply["text"].startswith("Your data at Lendgram.")
    assert "deleted 90 days after they are checked" in reply["text"]
    assert "Lending records must be kept" in reply["text"]
    labels = [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Download my data", "Delete my data"]


def test_the_data_file_arrives_in_the_chat(run_bot, alice):
    loan = loans.loan_application_submit(borrower=alice, principal=50 * USD, installments=3,
                                         purpose="education")

    async def scenario(chat):
        [intro] = await chat.say("alice", "/privacy")
        sent = await chat.press("alice", intro, "Download my data")
        return sent, file_content(chat, sent[-1])

    sent, content = run_bot(scenario)
    assert len(sent) == 1
    document = sent[0]["document"]
    assert document["file_name"].startswith("lendgram-my-data-")
    assert document["file_name"].endswith(".json")
    assert document["mime_type"] == "application/json"
    assert "The identity photos are not in it" in sent[0]["caption"]
    data = json.loads(content)
    assert data["profile"]["telegram_id"] == PEOPLE["alice"]["id"]
    assert data["profile"]["phone"] == alice.phone
    assert [item["id"] for item in data["loans"]] == [loan.pk]
    assert DataRequest.objects.filter(user=alice, kind="export").count() == 1


def test_deletion_is_refused_while_a_loan_is_open(run_bot, alice):
    loans.loan_application_submit(borrower=alice, principal=50 * USD, installments=3,
                                  purpose="education")

    async def scenario(chat):
        [intro] = await chat.say("alice", "/privacy")
        return await chat.press("alice", intro, "Delete my data")

    [reply] = run_bot(scenario)
    assert reply["text"].startswith("I cannot delete your data yet.\nYou have a loan or an "
                                    "application that is still open")
    assert "reply_markup" not in reply
    alice.refresh_from_db()
    assert alice.phone


def test_deletion_asks_once_more_then_erases(run_bot, alice):
    async def scenario(chat):
        [intro] = await chat.say("alice", "/privacy")
        [question] = await chat.press("alice", intro, "Delete my data")
        assert question["text"].startswith("Delete your data?")
        [done] = await chat.press("alice", question, "Yes, delete my data")
        # An older confirmation pressed again changes nothing.
        await chat.press("alice", question, data=callbacks.encode("priv", "stale", "erase",
                                                                  "yes"))
        after = await chat.say("alice", "/help")
        return done, after

    done, after = run_bot(scenario)
    assert done["text"] == ("Done: your personal data is erased. The lending records the law "
                            "requires are kept. /privacy shows what remains.")
    assert "reply_markup" not in done
    person = TelegramUser.objects.get(telegram_id=PEOPLE["alice"]["id"])
    assert (person.phone, person.username, person.first_name) == ("", "", "")
    assert person.wallet_address
    assert len(after) == 1  # the person still talks to the bot; names are not stored again
    assert DataRequest.objects.filter(user=person, kind="erasure").count() == 1


def test_keeping_the_data_changes_nothing(run_bot, alice):
    async def scenario(chat):
        [intro] = await chat.say("alice", "/privacy")
        [question] = await chat.press("alice", intro, "Delete my data")
        return await chat.press("alice", question, "No, keep it")

    [reply] = run_bot(scenario)
    assert reply["text"] == "Nothing was deleted."
    alice.refresh_from_db()
    assert alice.phone and alice.username == "alice"


def test_text_at_the_confirmation_asks_for_the_buttons(run_bot, alice):
    async def scenario(chat):
        [intro] = await chat.say("alice", "/privacy")
        await chat.press("alice", intro, "Delete my data")
        return await chat.say("alice", "yes")

    [reply] = run_bot(scenario)
    assert reply["text"] == "Please answer with the buttons above, or send /cancel to stop."
