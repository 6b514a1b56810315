"""Random updates through every step of every journey (the step tables of bot/journeys/*) and
outside any step, from a fixed seed so that every run sends the same ones.

At each step the person's conversation is put there with the draft that step keeps, then one
input arrives: a text with no digit of any script (no amount can be read from it), an amount
no step takes (5,000 digits, too precise, negative, not a number), an unknown
command, a sticker, a photo, a location, an edit, a contact that is not the person's own, or
callback data: garbage, over 64 bytes, the step's own buttons with a stale nonce, with the
right nonce and a value no button carries, and every button prefix the bot routes with ids
that are not the person's (another person's loans, ids that do not exist). Whatever arrives,
no handler may fail (the application's error handler would log it and apologise). Input that
is refused by construction changes nothing: no money row, no person, no signing request, and
the conversation stays where it was. Buttons that name someone else's objects may show
something, but move no money.
"""

from __future__ import annotations

import logging
import random
import re
import unicodedata

import pytest
from telegram.ext import CallbackQueryHandler

from bot.guard import FloodGate
from core.chat import services as chat_services
from core.chat.models import ChatSession
from core.ledger.models import JournalEntry, Posting
from core.loans import services as loans
from core.loans.models import FundingPosition, Loan, Repayment
from core.notifications.models import Broadcast
from core.scoring.quotes import borrow_quote
from core.signing.models import SigningRequest
from core.users import services as users
from core.users.models import TelegramUser
from tests import factories
from tests.bot.harness import button_data, db, new_person

SEED = 20261206
TEXTS_PER_STEP, PRESSES_PER_STEP, OTHERS_PER_STEP = 8, 16, 5
USD = factories.USD
IDS = {"alice": 9_100_001, "bob": 9_100_002, "carol": 9_100_003, "root": 9_100_004,
       "newcomer": 9_100_005}
# Typed steps that take any text as the answer (a reason, a search, a broadcast): a random text
# there is a real answer, so only "nothing fails" is asserted for texts at these steps.
FREE_TEXT = {"admin.reject_reason", "admin.freeze_reason", "admin.unfreeze_reason",
             "admin.user_query", "admin.broadcast_text"}
# Steps that ask for a photo: a random photo there is a real answer.
PHOTO_STEPS = {"verify.document", "verify.selfie"}
# Its buttons carry no value: with the right nonce they are the real "send" and "drop".
NO_VALUE_BUTTONS = {"admin.broadcast_confirm"}
HOSTILE = ["\u202e", "\u200f", "\x00", "\x1b[2J", "\x85", "\u2066", "'", '"', ";", "--", "%",
           "_", "\\", "<script>alert(1)</script>", "' OR '1'='1", "🙂", "\ufeff", "\n", " ",
           "ـ", "ß", "İ", "ǅ", "\u0301", "\U0001f468\u200d\U0001f469"]
# The kind of the buttons each journey's steps show.
STEP_KINDS = {"onboard": "onb", "calc": "calc", "borrow": "borrow", "repay": "repay",
              "lend": "lend", "pool": "pool", "admin": "adm", "privacy": "priv"}
# Amounts no step may take: too large, too precise, not positive, not numbers.
REFUSED_AMOUNTS = ["1" * 5000, "١" * 5000, "-5", "0", "0,0000001", "1e9", "1.2.3,4", "∞",
                   "1 2 3", "99999999999999999999", "0x10", "1/2"]
GARBAGE_VALUES = ["x", "-1", "0", "99999999999999999999", "b.l", "_", ":", "1.5", "1e3", "nan",
                  "NO", "none.", "A" * 40]


def no_digits(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Nd", "No", "Nl"))


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(HOSTILE) * rng.choice([1, 500, 10_000])
    chars = [rng.choice(HOSTILE) if rng.random() < 0.3 else chr(rng.choice([
        rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x24f), rng.randint(0x600, 0x6ff),
        rng.randint(0x900, 0x97f), rng.randint(0x400, 0x4ff), rng.randint(0x1f300, 0x1f5ff)]))
        for _ in range(rng.randint(1, 60))]
    text = no_digits("".join(chars)).lstrip("/") or "?"
    return text


def button_prefixes(application, *, steps_only: bool = False) -> list[tuple[str, str]]:
    """(kind, what) of every button pattern the bot routes (or only of the buttons of
    conversation steps, whose guard is bot.conversation.step_button's)."""
    found = set()
    for handlers in application.handlers.values():
        for handler in handlers:
            if not isinstance(handler, CallbackQueryHandler) or handler.pattern is None:
                continue
            if steps_only and not handler.callback.__qualname__.startswith("step_button."):
                continue
            source = handler.pattern.pattern.replace("\\", "")
            parts = re.findall(r"[a-z][a-z0-9_]*", source.split("|", 1)[-1])
            if parts:
                found.add((parts[0], parts[1] if len(parts) > 1 else ""))
    return sorted(found)


def random_data(rng: random.Random, prefixes, step_prefixes, foreign_ids, step_nonce: str,
                stale: str, step: str) -> tuple[str, bool]:
    """(callback data, refused by construction)."""
    kind, what = rng.choice(prefixes)
    own = [p for p in step_prefixes if p[0] == STEP_KINDS.get(step.split(".")[0])]
    own_kind, own_what = rng.choice(own) if own else (kind, what)
    roll = rng.random()
    if roll < 0.15:  # garbage, sometimes past Telegram's 64 bytes
        size = rng.choice([1, 20, 63, 64, 65, 200])
        return "".join(chr(rng.randint(0x21, 0x2ff)) for _ in range(size)), True
    if roll < 0.25:  # exactly at (a real button may ignore the id), and one byte past, the limit
        size = rng.choice([64, 65])
        return (f"1|{kind}|{what}|" + "9" * 64)[:size], size > 64
    if roll < 0.45:  # a stale nonce, either layout
        value = rng.choice([*GARBAGE_VALUES, "b", "yes", "3", "en"])
        layout = ([stale, own_what, value] if rng.random() < 0.5
                  else [own_what, stale, value])
        return "|".join(["1", own_kind, *layout])[:64], True
    if roll < 0.6 and step not in NO_VALUE_BUTTONS:  # the right nonce, a value no button has
        value = rng.choice(GARBAGE_VALUES)
        layout = ([step_nonce, own_what, value] if rng.random() < 0.5
                  else [own_what, step_nonce, value])
        return "|".join(["1", own_kind, *layout])[:64], True
    if roll < 0.7:  # another release's layout
        return "|".join([rng.choice(["0", "2", "v1", ""]), kind, what, "1"]), True
    args = [str(rng.choice(foreign_ids)) for _ in range(rng.randint(1, 3))]
    return "|".join(["1", kind, what, *args])[:64], False


def other_input(rng: random.Random, person_id: int) -> tuple[dict, bool]:
    return rng.choice([
        {"kind": "sticker"}, {"kind": "photo", "caption": random_text(rng)},
        {"kind": "location"}, {"kind": "edited", "text": random_text(rng)},
        {"kind": "contact", "phone": "+15550001111", "contact_user_id": person_id + 1},
        {"kind": "contact", "phone": "+15550001111", "contact_user_id": None},
        {"kind": "contact", "phone": rng.choice(["+1' OR 1=1", "\u202e+1555000", "5" * 500]),
         "contact_user_id": person_id},
        {"text": rng.choice(["/", "/nosuchcommand", "/start@someotherbot", "/\u202e",
                             "/" + "x" * 5000])},
    ]), True


def money() -> tuple:
    return (list(Loan.objects.order_by("pk").values_list("pk", "state", "funded_amount",
                                                        "repaid_amount")),
            FundingPosition.objects.count(), Repayment.objects.count(),
            JournalEntry.objects.count(), Posting.objects.count(), Broadcast.objects.count())


def everything_else() -> tuple:
    return (SigningRequest.objects.count(),
            list(TelegramUser.objects.order_by("pk").values_list(
                "pk", "language", "is_borrower", "is_lender", "consented_at", "phone",
                "wallet_address", "is_frozen", "reminders_enabled")))


def session_of(telegram_id: int):
    row = ChatSession.objects.filter(chat_id=telegram_id, user_id=telegram_id).first()
    return (row.step, row.draft, row.nonce) if row else None


def state_of(telegram_id: int) -> tuple:
    return money(), everything_else(), session_of(telegram_id)


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()} {record.exc_info or ''}")


@pytest.fixture
def world(db, settings):
    settings.ADMIN_TELEGRAM_IDS = [IDS["root"]]
    alice = factories.borrower(telegram_id=IDS["alice"], username="fz_alice")
    bob = factories.lender(telegram_id=IDS["bob"], username="fz_bob")
    carol = factories.borrower(telegram_id=IDS["carol"], username="fz_carol")
    factories.lender(telegram_id=IDS["root"], username="fz_root")
    newcomer, _ = users.user_get_or_create_from_telegram(telegram_id=IDS["newcomer"],
                                                         first_name="New")
    # Right to left with its own digits, Devanagari digits, decimal commas: each their answers.
    for person, language in ((alice, "fa"), (bob, "es"), (carol, "ru"), (newcomer, "hi")):
        users.user_set_language(user=person, language=language)
    active = factories.active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    listed = factories.listed_loan(borrower=alice, principal=200 * USD)
    review = loans.loan_request_create(borrower=carol, principal=150 * USD, installments=3,
                                       purpose="business")
    loans.loan_submit(loan=review, actor=carol)
    loans.loan_record_offer(loan=review, grade="C", score=600, apr_bps=2400, reasons=[])
    loans.loan_send_to_review(loan=review, reason="fuzz")
    carols_listed = factories.listed_loan(borrower=carol, principal=100 * USD)
    quote = borrow_quote(user=alice).as_draft()
    term = quote["terms"][0] if isinstance(quote, dict) and quote.get("terms") else 3
    borrowing = {"quote": quote, "amount": 50 * USD, "installments": term}
    steps = {  # step -> (who is there, the draft that step keeps)
        "onboard.language": ("newcomer", {}), "onboard.role": ("newcomer", {}),
        "onboard.terms": ("newcomer", {}), "onboard.phone": ("newcomer", {}),
        "calc.amount": ("alice", {}), "calc.term": ("alice", {"amount": 100 * USD}),
        "borrow.role": ("bob", {}), "borrow.amount": ("alice", {"quote": quote}),
        "borrow.term": ("alice", {"quote": quote, "amount": 50 * USD}),
        "borrow.purpose": ("alice", borrowing),
        "borrow.income": ("alice", {**borrowing, "purpose": "business"}),
        "borrow.employment": ("alice", {**borrowing, "purpose": "business", "income": ""}),
        "borrow.confirm": ("alice", {**borrowing, "purpose": "business", "income": ""}),
        "repay.amount": ("alice", {"loan_id": active.pk}),
        "lend.amount": ("bob", {"loan_id": listed.pk}),
        "pool.deposit": ("bob", {}), "pool.withdraw": ("bob", {}),
        "admin.reject_reason": ("root", {"loan_id": review.pk}),
        "admin.user_query": ("root", {}),
        "admin.freeze_reason": ("root", {"user_id": carol.pk}),
        "admin.unfreeze_reason": ("root", {"user_id": carol.pk}),
        "admin.broadcast_text": ("root", {}),
        "admin.broadcast_confirm": ("root", {"text": "Hello from the fuzz test"}),
        # Texts, stickers and contacts where a photo is asked for (a photo is an answer);
        # at the selfie, a document file id the bot cannot fetch.
        "verify.document": ("carol", {}),
        "verify.selfie": ("carol", {"document": "AgACAgIAAxkBAAI-no-such-file"}),
        "privacy.confirm": ("bob", {}),
    }
    nowhere = [(name, "") for name in IDS]  # outside any step: action buttons and commands
    # Ids each person has nothing to do with, and ids of nothing at all.
    missing = [0, 999_999_999, 10**12 - 1, 2**63]
    foreign = {"alice": [carols_listed.pk, review.pk, carol.pk, *missing],
               "bob": [review.pk, carol.pk, *missing],
               "carol": [active.pk, listed.pk, alice.pk, *missing],
               "root": missing, "newcomer": [active.pk, review.pk, alice.pk, *missing]}
    return {"steps": steps, "nowhere": nowhere, "foreign": foreign}


def _callback_data(messages: list[dict]) -> list[str]:
    return [button["callback_data"] for message in messages
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row if "callback_data" in button]


async def buttons_shown(chat) -> list[str]:
    """The real buttons of the onboarding, /calc and /borrow steps, shown to someone going
    through them once: their nonces are stale as soon as the fuzz moves the sessions."""
    fresh, alice = new_person(), {"id": IDS["alice"], "first_name": "alice",
                                  "language_code": "en"}
    chat.meet(fresh)
    chat.meet(alice)
    shown = []
    messages = await chat.say(fresh, "/start")
    for label in ("English", "Borrow money", None):
        shown += _callback_data(messages)
        if label is not None:
            messages = await chat.press(fresh, messages[-1], label)
    await chat.say(alice, "/calc")
    shown += _callback_data(await chat.say(alice, "100"))
    await chat.say(alice, "/borrow")
    messages = await chat.say(alice, "50")
    for _ in range(4):  # term, purpose, income, employment (never the submit button)
        shown += _callback_data(messages)
        if "|submit|" in button_data(messages[-1], None):
            break
        messages = await chat.press(alice, messages[-1])
    return list(dict.fromkeys(shown))


def test_random_updates_at_every_step_fail_nothing_and_refused_ones_change_nothing(
        run_bot, world):
    from bot.journeys import load_journeys

    every_step = {step for journey in load_journeys() for step in journey.steps}
    assert set(world["steps"]) == every_step, "a new journey step needs its place here"
    rng = random.Random(SEED)
    failures = Failures()
    logging.getLogger().addHandler(failures)
    sent = {"refused": 0, "foreign": 0, "free": 0}

    async def scenario(chat):
        prefixes = button_prefixes(chat.runtime.application)
        step_prefixes = button_prefixes(chat.runtime.application, steps_only=True)
        assert len(prefixes) > 30 and len(step_prefixes) > 15
        people = {name: {"id": tid, "first_name": name, "username": f"fz_{name}",
                         "language_code": "en"} for name, tid in IDS.items()}
        for person in people.values():
            chat.meet(person)
        shown = await buttons_shown(chat)
        assert len(shown) > 20
        places = [(step, who, draft) for step, (who, draft) in world["steps"].items()]
        places += [("", who, {}) for who, _step in world["nowhere"]]
        stale = chat_services.chat_session_nonce()
        for step, who, draft in places:
            person = people[who]
            step_kind = STEP_KINDS.get(step.split(".")[0])
            own = [p for p in step_prefixes if p[0] == step_kind]
            inputs = ([("own", (kind, what, nonce_first)) for kind, what in own
                       for nonce_first in (True, False) if step not in NO_VALUE_BUTTONS]
                      + [("stale", data) for data in shown if data.split("|")[1] == step_kind]
                      + [("every", prefix) for prefix in (prefixes if not step else [])]
                      + [("text", {"text": random_text(rng)}) for _ in range(TEXTS_PER_STEP)]
                      + [("text", {"text": rng.choice(REFUSED_AMOUNTS)}) for _ in range(3)]
                      + [("press", None) for _ in range(PRESSES_PER_STEP)]
                      + [("other", None) for _ in range(OTHERS_PER_STEP)])
            for kind, body in inputs:
                nonce = chat_services.chat_session_nonce()
                await db(chat_services.chat_session_store, chat_id=person["id"],
                         user_id=person["id"], step=step, draft=draft, nonce=nonce)
                refused = True
                if kind == "own":  # each of the step's own buttons, the right nonce, no value
                    button_kind, what, nonce_first = body  # of its buttons
                    value = rng.choice(GARBAGE_VALUES)
                    layout = [nonce, what, value] if nonce_first else [what, nonce, value]
                    last = chat.messages(person)
                    body = {"kind": "callback",
                            "callback_data": "|".join(["1", button_kind, *layout])[:64],
                            "message_id": last[-1]["message_id"] if last else 0}
                elif kind == "stale":  # a real button the bot showed for an earlier step
                    body = {"kind": "callback", "callback_data": body, "message_id": 0}
                elif kind == "every":  # outside any step: every button, naming foreign ids
                    button_kind, what = body
                    ids = [str(rng.choice(world["foreign"][who])) for _ in range(2)]
                    body = {"kind": "callback", "message_id": 0,
                            "callback_data": "|".join(["1", button_kind, what, *ids])[:64]}
                    refused = False
                elif kind == "press":
                    data, refused = random_data(rng, prefixes, step_prefixes,
                                                world["foreign"][who], nonce, stale, step)
                    last = chat.messages(person)
                    body = {"kind": "callback", "callback_data": data,
                            "message_id": last[-1]["message_id"] if last else 0}
                elif kind == "other":
                    body, refused = other_input(rng, person["id"])
                    refused = refused and not (step in PHOTO_STEPS and body.get("kind") == "photo")
                elif step in FREE_TEXT:
                    refused = False
                sent["refused" if refused else ("free" if kind == "text" else "foreign")] += 1
                before = await db(state_of, person["id"])
                answered = len(chat.callback_answers())
                replies = await chat.send(person, **body)
                assert not failures.records, (step, who, body, failures.records)
                said = [r.get("text", "") for r in replies] + [
                    a.get("text", "") for a in chat.callback_answers()[answered:]]
                assert not any("something went wrong" in text for text in said), (
                    step, who, body)
                after = await db(state_of, person["id"])
                if kind == "text" and step in FREE_TEXT:
                    continue
                assert after[0] == before[0], ("money moved", step, who, body)
                if refused:
                    assert after[1:] == before[1:], ("changed", step, who, body, before[1:],
                                                     after[1:])
            stale = nonce

    try:
        # The flood limit is the guard's own business (tests/bot/test_fallback.py): off here,
        # so that how fast this machine sends never decides what is handled.
        run_bot(scenario, flood_gate=FloodGate(max_updates=10**6, window_s=1))
    finally:
        logging.getLogger().removeHandler(failures)
    print("fuzz sent", sent)
    assert sent["refused"] > 300 and sent["foreign"] > 20
