"""The sandbox chat page in a real browser, with the real bot polling the local Bot API emulator:
people type and press buttons on /sandbox/, the bot answers through the emulator, the page
shows it. Nothing is posted by hand on the bot's side."""

from __future__ import annotations

import asyncio
import io
import re
import threading
import urllib.request
from collections.abc import Iterator

import pytest
import zxingcpp
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image
from playwright.sync_api import Locator, Page

from bot import dbcall
from bot.sandbox.emulator import EmulatorThread
from core.users.models import TelegramUser
from tests.bot.harness import start_runtime
from tests.browser import screenshot

WAIT_MS = 15_000
AMARA, JOAO = 910_001, 910_004  # bot/sandbox_views.py PEOPLE: a borrower and a lender


class BackgroundBot:
    """The bot as `manage.py runbot` runs it (getUpdates, then the dispatcher), on its own
    event loop in a thread, so the test thread is free to drive the browser."""

    def __init__(self, emulator: EmulatorThread) -> None:
        self.emulator = emulator
        self.failures: list[BaseException] = []
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()),
                                        name="sandbox-bot", daemon=True)

    def start(self) -> BackgroundBot:
        self._thread.start()
        assert self._ready.wait(20), "the bot did not start"
        if self.failures:
            raise self.failures[0]
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(20)
        assert not self._thread.is_alive(), "the bot did not stop"

    async def _serve(self) -> None:
        try:
            runtime = await start_runtime(self.emulator)
        except BaseException as exc:  # reported by start()
            self.failures.append(exc)
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stopping.is_set():
                try:
                    # The emulator caps the wait at 0.2 s, so stopping is quick.
                    await runtime.poll_once(timeout=1)
                except Exception as exc:  # the test fails on it at teardown
                    self.failures.append(exc)
                    return
            await runtime.dispatcher.idle()
        finally:
            await runtime.stop()
            # The bot's database threads keep their connections; a test database with open
            # connections cannot be flushed or dropped.
            await dbcall.run_in_db(connections.close_all)
            await sync_to_async(connections.close_all)()


@pytest.fixture
def sandbox_site(live_server, settings, emulator: EmulatorThread) -> str:
    """/sandbox/ served by Django, pointing at the emulator, with the dev wallet on (DEBUG on
    the local chain), as `make sandbox` runs it."""
    settings.SANDBOX_EMULATOR_URL = emulator.url
    settings.PUBLIC_BASE_URL = live_server.url
    settings.DEBUG = True
    settings.CHAIN_ID = 31337
    return live_server.url


@pytest.fixture
def bot(transactional_db, emulator: EmulatorThread) -> Iterator[BackgroundBot]:
    # A database thread of its own: the test thread is busy with the browser.
    dbcall.configure(threads=1)
    running = BackgroundBot(emulator).start()
    yield running
    running.stop()
    assert running.failures == []


def open_sandbox(page: Page, site: str) -> None:
    page.goto(f"{site}/sandbox/")
    page.wait_for_selector(".person.active", timeout=WAIT_MS)


def type_message(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def bot_bubble(page: Page, text: str) -> Locator:
    """The bot's message containing `text`, once the page shows it."""
    bubble = page.locator(".msg.bot", has_text=text)
    bubble.first.wait_for(timeout=WAIT_MS)
    return bubble


def switch_to(page: Page, name: str) -> None:
    page.click(f".person:has-text('{name}')")
    page.wait_for_selector(f".person.active:has-text('{name}')", timeout=WAIT_MS)


def emulator_photo(emulator: EmulatorThread, src: str) -> bytes:
    assert src.startswith(f"{emulator.url}/_emu/files/")
    with urllib.request.urlopen(src, timeout=10) as response:
        return response.read()


@pytest.mark.django_db(transaction=True)
def test_a_borrower_onboards_on_the_page_by_pressing_the_bots_buttons_up_to_the_wallet_qr_code(
        sandbox_site, emulator, bot, browser_page):
    page = browser_page
    open_sandbox(page, sandbox_site)
    assert "Amara" in page.inner_text(".person.active")

    type_message(page, "/start")
    page.locator(".msg.user", has_text="/start").wait_for(timeout=WAIT_MS)
    welcome = bot_bubble(page, "Hello, Amara! I am Lendgram.")
    languages = welcome.locator(".keyboard button")
    assert languages.count() == 6
    assert "✓ English" in languages.all_inner_texts()  # preselected from Telegram's language
    screenshot(page, "sandbox-bot-welcome")

    # Each press is a callback query from the page; the bot edits the pressed message into
    # the answer and asks the next question.
    welcome.get_by_role("button", name="✓ English").click()
    bot_bubble(page, "I will write to you in English.")
    assert page.locator(".msg.bot", has_text="Hello, Amara!").count() == 0
    page.locator(".msg.bot .keyboard button", has_text="Borrow money").click()
    bot_bubble(page, "You want to borrow.")
    page.locator(".msg.bot .keyboard button", has_text="I accept").click()
    bot_bubble(page, "You accepted the terms.")
    bot_bubble(page, "Please share your phone number")
    page.click("button[data-kind=contact]")  # Telegram's share-my-phone, as the page offers it
    bot_bubble(page, "Thank you, your phone number is saved.")
    bot_bubble(page, "Last step: link your wallet.")

    qr = page.locator(".msg.bot img").first
    qr.wait_for(timeout=WAIT_MS)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle(),
                           timeout=WAIT_MS)
    photo = page.locator(".msg.bot", has=page.locator("img"))
    assert "Scan to open the signing page" in photo.inner_text()
    photo.scroll_into_view_if_needed()
    screenshot(page, "sandbox-bot-wallet-qr")

    # The QR code the page shows is the bot's signing page; the page's own link opens it with
    # Amara's dev account.
    scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(
        emulator_photo(emulator, qr.get_attribute("src")))))
    assert len(scanned) == 1
    token = re.fullmatch(rf"{re.escape(sandbox_site)}/s/([A-Za-z0-9_-]+)/", scanned[0].text)
    assert token, scanned[0].text
    link = page.locator(".msg.bot a", has_text="Open the signing page")
    assert link.get_attribute("href") == f"{sandbox_site}/s/{token.group(1)}/#dev-account=5"

    amara = TelegramUser.objects.get(telegram_id=AMARA)
    assert amara.is_borrower and not amara.is_lender and amara.consented_at is not None
    assert amara.phone == "+15550000000" and amara.language == "en"
    assert page.errors == []


@pytest.mark.django_db(transaction=True)
def test_each_person_in_the_switcher_has_their_own_conversation_with_the_bot(
        sandbox_site, bot, browser_page):
    page = browser_page
    open_sandbox(page, sandbox_site)
    type_message(page, "/start")
    bot_bubble(page, "Hello, Amara!")

    switch_to(page, "João")
    page.wait_for_selector("#log:empty", state="attached", timeout=WAIT_MS)  # a new chat
    type_message(page, "/help")
    with translation.override("pt-br"):  # João's Telegram is in Brazilian Portuguese
        help_title = gettext("Here is what I can do:")
    assert help_title != "Here is what I can do:"
    answer = bot_bubble(page, help_title)
    assert "/start" in answer.inner_text() and "/lend" in answer.inner_text()
    assert page.locator(".msg", has_text="Amara").count() == 0
    screenshot(page, "sandbox-lender-help")

    switch_to(page, "Amara")
    welcome = bot_bubble(page, "Hello, Amara!")
    assert welcome.locator(".keyboard button").count() == 6
    assert page.locator(".msg.user").all_inner_texts() == ["/start"]
    assert page.locator(".msg", has_text=help_title).count() == 0
    assert not TelegramUser.objects.get(telegram_id=JOAO).is_borrower
    assert page.errors == []


@pytest.mark.django_db(transaction=True)
def test_a_borrower_sends_identity_photos_from_the_page_and_downloads_their_data(
        sandbox_site, bot, browser_page, kyc_folder, tmp_path):
    from core.kyc.models import KycRequest
    from core.users.models import KycTier
    from tests import factories
    from tests.kyc.fixtures import jpeg, png

    factories.borrower(telegram_id=AMARA, username="demo_amara", tier=KycTier.BASIC)
    document, selfie = tmp_path / "passport.jpg", tmp_path / "me.png"
    document.write_bytes(jpeg("navy"))
    selfie.write_bytes(png("tan"))
    page = browser_page
    open_sandbox(page, sandbox_site)
    type_message(page, "/verify")
    bot_bubble(page, "First, send the photo of your identity document.")
    page.set_input_files("#photo-file", str(document))
    bot_bubble(page, "Now a selfie, please")
    page.set_input_files("#photo-file", str(selfie))
    bot_bubble(page, "your documents are with our verification team")
    sent = page.locator(".msg.user img")
    assert sent.count() == 2
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=sent.first.element_handle(), timeout=WAIT_MS)
    request = KycRequest.objects.get(user__telegram_id=AMARA)
    assert request.documents.count() == 2

    type_message(page, "/privacy")
    bot_bubble(page, "Your data at Lendgram.")
    page.locator(".msg.bot .keyboard button", has_text="Download my data").click()
    link = page.locator(".msg.bot a.file")
    link.wait_for(timeout=WAIT_MS)
    assert link.inner_text().startswith("📄 lendgram-my-data-")
    screenshot(page, "sandbox-verify-and-privacy")
    assert page.errors == []
