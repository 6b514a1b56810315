"""Hostile text: names and reasons with bidirectional overrides (U+202E), direction marks,
NUL and other C0/C1 controls, markup and 10,000 characters. The rule is core.common.text's,
applied where the text is stored; pages and the admin escape what they show."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from core.common.text import plain_text
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.transitions import LoanRuleViolation
from core.users import services as users
from core.users.models import TelegramUser
from core.web.services import login_link_create
from tests.bot.harness import db
from tests.factories import USD, active_loan, borrower, lender

RLO, RLM = "\u202e", "\u200f"
CONTROLS = "".join(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]))
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
MARKUP = '<img src=x onerror="alert(1)">'
HOSTILE_NAME = f"{RLO}gpj.exe\x00{RLM}\x1b[31m\x85 {MARKUP}" + "A" * 10_000


def unsafe_in(text: str) -> set[str]:
    return {char for char in text if char in CONTROLS + BIDI}


@pytest.mark.parametrize("char", list(CONTROLS + BIDI))
def test_every_control_and_bidi_character_is_removed(char):
    assert plain_text(f"a{char}b", max_length=10) == "ab"


def test_multiline_text_keeps_its_lines_and_tabs_only():
    assert plain_text(f"one\n\ttwo{RLO}\r\x00", max_length=50, multiline=True) == "one\n\ttwo"


def test_persian_and_hindi_joiners_and_ordinary_text_are_kept():
    text = "می\u200cخواهم क्\u200dष Ольга <b>&amp;</b>"
    assert plain_text(text, max_length=100) == text


def test_a_10000_character_text_is_cut_to_the_columns_length():
    assert plain_text("x" * 10_000, max_length=128) == "x" * 128


def test_a_hostile_telegram_name_is_kept_clean_and_within_its_column(run_bot):
    """A forged update (or a profile Telegram let through) names someone with an RTL override,
    NUL (PostgreSQL refuses to store it: the person would be locked out), escape sequences and
    10,000 characters. The greeting and the stored person show the cleaned name."""
    person = {"id": 7_700_001, "first_name": HOSTILE_NAME,
              "username": f"ev{RLO}il\x00" + "u" * 100, "language_code": "en"}

    async def scenario(chat):
        chat.meet(person)
        greeting = (await chat.say(person, "/start"))[-1]["text"]
        stored = await db(TelegramUser.objects.get, telegram_id=person["id"])
        assert not unsafe_in(greeting) and "Hello, gpj.exe" in greeting
        for field in ("first_name", "username"):
            value = getattr(stored, field)
            assert not unsafe_in(value)
            assert len(value) <= TelegramUser._meta.get_field(field).max_length
        # NUL arrives as U+FFFD: recording the update already replaced it (core.chat).
        assert stored.first_name == f"gpj.exe\ufffd[31m {MARKUP}{'A' * 10_000}"[:128]
        assert stored.username.startswith("evil")

        # Renaming oneself later goes through the same rule, and an unchanged name writes nothing.
        renamed = f"Eve{RLO}{RLO}"
        chat.emulator.call(lambda emu: setattr(emu.state.people[person["id"]], "first_name",
                                               renamed), chat.emulator.emulator)
        await chat.say(person, "/help")
        assert (await db(TelegramUser.objects.get, telegram_id=person["id"])).first_name == "Eve"

    run_bot(scenario)


def test_a_loan_purpose_outside_the_offered_ones_is_refused_and_nothing_is_kept(alice):
    before = Loan.objects.count()
    for purpose in (f"{RLO}business", "business\x00", "x" * 10_000, "' OR 1=1 --"):
        with pytest.raises(LoanRuleViolation) as refused:
            loans.loan_request_create(borrower=alice, principal=100 * USD, installments=3,
                                      purpose=purpose)
        assert refused.value.code == "bad_purpose"
        assert str(refused.value) == "Choose one of the offered purposes."
    assert Loan.objects.count() == before


def test_a_last_name_of_controls_only_is_kept_empty(db):
    user, _ = users.user_get_or_create_from_telegram(telegram_id=7_700_002, first_name="Ann",
                                                     last_name=f"{RLO}\x00\x9b" * 3000)
    assert user.last_name == ""


def test_a_freeze_reason_and_a_loan_reason_are_kept_clean_and_bounded(alice, bob):
    frozen = users.user_freeze(user=bob, reason=f"{RLO}fraud\x00\n{RLM}" + "r" * 10_000)
    assert frozen.frozen_reason.startswith("fraud\n") and len(frozen.frozen_reason) == 255
    loan = loans.loan_request_create(borrower=alice, principal=100 * USD, installments=3,
                                     purpose="business")
    loans.loan_submit(loan=loan, actor=alice)
    loans.loan_cancel(loan=loan, actor=alice, reason=f"{RLO}changed\x00 my mind" + "." * 10_000)
    reason = loan.transitions.order_by("-pk").first().reason
    assert reason.startswith("changed my mind") and not unsafe_in(reason)
    assert len(reason) <= 2000


@pytest.mark.django_db
def test_hostile_names_are_escaped_on_my_page_and_in_the_admin(client, signed_in):
    alice = borrower(telegram_id=7_700_010, username="alice_x")
    users.user_refresh_from_telegram(user=alice, username=f"a{RLO}<b>x</b>",
                                     first_name=HOSTILE_NAME, last_name=MARKUP)
    bob = lender(telegram_id=7_700_011, username="bob_x")
    active_loan(borrower=alice, lenders=[(bob, 300 * USD)])

    page = signed_in(alice).get("/me/").content.decode()
    assert "@a&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert RLO not in page

    client.logout()
    client.force_login(User.objects.create_superuser("op", "op@example.com", "pw"))
    shown = [client.get("/admin/users/telegramuser/").content.decode(),
             client.get(f"/admin/users/telegramuser/{alice.pk}/change/").content.decode(),
             client.get("/admin/loans/loan/").content.decode()]
    for html in shown:
        assert MARKUP not in html and "<b>x</b>" not in html and RLO not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in shown[1]


def test_an_operator_cannot_type_a_name_past_the_cleaning_in_the_admin(client, db):
    alice = borrower(telegram_id=7_700_012, username="alice_y")
    client.force_login(User.objects.create_superuser("op_n", "op_n@example.com", "pw"))
    url = f"/admin/users/telegramuser/{alice.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="first_name"' not in form and 'name="username"' not in form
    client.post(url, {"first_name": f"{RLO}Mallory", "username": f"x{RLO}", "language": "en",
                      "kyc_tier": alice.kyc_tier})
    alice.refresh_from_db()
    assert RLO not in alice.first_name and RLO not in alice.username


@pytest.mark.django_db(transaction=True)
def test_a_hostile_name_renders_as_text_in_a_real_browser_on_my_page_and_in_the_admin(
        live_server, browser_page, chain_out_of_reach):
    alice = borrower(telegram_id=7_700_020, username="alice_b")
    alice = users.user_refresh_from_telegram(user=alice, username=f"{RLO}<b>x</b>",
                                             first_name=HOSTILE_NAME)
    dialogs = []
    browser_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_page.goto(live_server.url + urlsplit(login_link_create(user=alice)).path)
    browser_page.wait_for_url(f"{live_server.url}/me/")
    shown = browser_page.inner_text("main")
    assert "@<b>x</b>" in shown and RLO not in shown
    assert browser_page.locator("main b").count() == 0
    assert browser_page.errors == []

    User.objects.create_superuser("op_b", "op_b@example.com", "pw")
    browser_page.goto(f"{live_server.url}/admin/login/?next=/admin/users/telegramuser/"
                      f"{alice.pk}/change/")
    browser_page.fill("#id_username", "op_b")
    browser_page.fill("#id_password", "pw")
    browser_page.click("input[type=submit]")
    # Names are read-only there: shown as text, never as markup.
    first_name = browser_page.locator(".field-first_name .readonly")
    first_name.wait_for()
    assert first_name.inner_text() == alice.first_name
    assert MARKUP in alice.first_name and browser_page.locator("img[src=x]").count() == 0
    assert dialogs == []  # (the admin's own static files are not served by live_server)


@pytest.mark.django_db
def test_a_hostile_reason_is_escaped_on_a_loans_timeline_in_the_admin(client, alice):
    loan = loans.loan_request_create(borrower=alice, principal=100 * USD, installments=3,
                                     purpose="business")
    loans.loan_submit(loan=loan, actor=alice)
    loans.loan_cancel(loan=loan, actor=alice, reason=f"{RLO}{MARKUP}<script>alert(2)</script>")
    client.force_login(User.objects.create_superuser("op_t", "op_t@example.com", "pw"))
    html = client.get(f"/admin/loans/loan/{loan.pk}/timeline/").content.decode()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<script>alert(2)" not in html and MARKUP not in html and RLO not in html
