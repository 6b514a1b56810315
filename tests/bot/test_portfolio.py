"""/portfolio through the emulator on a real chain: after repayments a lender sees what is
ready to collect and collects it with one signing request; a cancelled loan's money comes
back through a refund; buttons for what is not theirs change nothing."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext
from eth_account import Account

from bot.i18n import format_amount
from core.chain.models import ChainCursor
from core.loans.models import FundingPosition, Installment, Loan
from core.loans.selectors import lender_claimable
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from core.users.services import user_set_language
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.test_lend import last_alert, plain, press
from tests.bot.wallets import follow_signing_link
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(34), "lucia": dev_key(35), "reza": dev_key(36)}


def in_spanish(text: str) -> str:
    with translation.override("es"):
        return gettext(text)


def wallet(name: str) -> str:
    return Account.from_key(KEYS[name]).address


@pytest.fixture
def repaid_once(chain, settings):
    """alice's loan of 300, funded by lucia (100) and reza (200), drawn down, its first
    installment repaid; and a second loan of alice's that lucia funded and alice cancelled."""
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    for key in KEYS.values():
        chain.faucet(key, 1_000 * USD)
    people = {"alice": factories.borrower(telegram_id=PEOPLE["alice"]["id"], username="alice",
                                          wallet=wallet("alice"))}
    for name, language in (("lucia", "es"), ("reza", "fa")):
        people[name] = user_set_language(user=factories.lender(
            telegram_id=PEOPLE[name]["id"], username=name, wallet=wallet(name)),
            language=language)

    def sign(name, created):
        chain.sign(KEYS[name], created)
        chain.sync()

    alice = people["alice"]
    loan = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3)
    sign("alice", actions.open_loan_request(user=alice, loan=loan))
    for name, amount in (("lucia", 100 * USD), ("reza", 200 * USD)):
        loan.refresh_from_db()
        sign(name, actions.fund_request(user=people[name], loan=loan, amount=amount))
    loan.refresh_from_db()
    sign("alice", actions.drawdown_request(user=alice, loan=loan))
    loan.refresh_from_db()
    first = Installment.objects.get(loan=loan, number=1)
    sign("alice", actions.repay_request(user=alice, loan=loan, amount=first.amount))

    cancelled = factories.approved_loan(borrower=alice, principal=60 * USD, installments=1)
    sign("alice", actions.open_loan_request(user=alice, loan=cancelled))
    cancelled.refresh_from_db()
    sign("lucia", actions.fund_request(user=people["lucia"], loan=cancelled, amount=40 * USD))
    cancelled.refresh_from_db()
    sign("alice", actions.cancel_request(user=alice, loan=cancelled))
    loan.refresh_from_db()
    cancelled.refresh_from_db()
    assert (loan.state, cancelled.state) == (LoanState.ACTIVE, LoanState.CANCELLED)
    return {"loan": loan, "cancelled": cancelled, **people}


def test_a_lender_sees_what_is_ready_and_collects_it_with_one_signature(run_bot, chain,
                                                                       repaid_once):
    loan = repaid_once["loan"]
    position = FundingPosition.objects.get(loan=loan, lender=repaid_once["reza"])
    claimable = lender_claimable(position=position)
    assert claimable > 0

    async def scenario(chat):
        replies = await chat.say("reza", "/portfolio")
        summary, chart = replies
        text = plain(summary)
        assert text.startswith("سبد شما: ۱ وام")
        assert "مجموع وام‌داده: ۲۰۰٫۰۰ USDx" in text
        assert f"آمادهٔ برداشت: {format_amount(claimable, 'fa')}".replace("\xa0", " ") in text
        assert "photo" in chart and "سبز مبلغی است که برداشته‌اید" in chart["caption"]

        replies = await press(chat, "reza", summary, "1|pf|claim")
        signed = await follow_signing_link(chain, KEYS["reza"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount == claimable

        after = await db(FundingPosition.objects.get, pk=position.pk)
        assert after.claimed == claimable
        summary = (await chat.say("reza", "/portfolio"))[0]
        assert "آمادهٔ برداشت: ۰٫۰۰ USDx" in plain(summary)
        assert "1|pf|claim" not in str(summary.get("reply_markup"))

    run_bot(scenario)


def test_a_cancelled_loans_money_comes_back_and_forged_buttons_change_nothing(
        run_bot, chain, repaid_once):
    loan, cancelled = repaid_once["loan"], repaid_once["cancelled"]
    factories.lender(telegram_id=PEOPLE["bob"]["id"], username="bob")

    async def scenario(chat):
        summary = (await chat.say("lucia", "/portfolio"))[0]
        text = plain(summary)
        assert "Para recuperar de préstamos vencidos o cancelados: 40,00 USDx" in text
        assert f"#{cancelled.pk} · calificación B · cancelado" in text

        requests_before = await db(SigningRequest.objects.count)
        # The active loan is hers, but nothing comes back from it; bob has nothing anywhere.
        assert await chat.press("lucia", summary, data=f"1|pf|refund|{loan.pk}") == []
        assert last_alert(chat) == in_spanish("Refunds open when a loan expires or is "
                                              "cancelled.")
        assert await chat.press("lucia", summary, data="1|pf|refund|999999") == []
        assert last_alert(chat) == in_spanish("You have nothing to take back from this loan.")
        assert await chat.press("lucia", summary, data="1|pf|bogus") == []
        assert "/portfolio" in last_alert(chat)
        bob_summary = (await chat.say("bob", "/portfolio"))[0]
        assert plain(bob_summary).startswith("You have not funded any loans yet.")
        assert await chat.press("bob", bob_summary, data="1|pf|claim") == []
        assert last_alert(chat) == "There is nothing to collect yet."
        assert await db(SigningRequest.objects.count) == requests_before

        replies = await press(chat, "lucia", summary, f"1|pf|refund|{cancelled.pk}")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount == 40 * USD
        position = await db(FundingPosition.objects.get, loan_id=cancelled.pk,
                            lender=repaid_once["lucia"])
        assert position.refunded == 40 * USD
        assert (await db(Loan.objects.get, pk=cancelled.pk)).state == LoanState.CANCELLED

    run_bot(scenario)
