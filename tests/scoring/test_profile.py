"""What borrowers declare and what their wallets show: both reach the score."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from eth_account import Account

from config.celery import app
from core.scoring import tasks
from core.scoring.applications import loan_application_score
from core.scoring.models import Score, WalletSignal
from core.scoring.profile import borrower_profile_set
from onchain.transactions import UnsignedTx
from tests import factories
from tests.scoring.support import USD, apply


def test_declaring_income_and_employment_raises_the_score(alice, dave):
    borrower_profile_set(user=alice, income_band="3000_plus", employment="employed")
    with_profile = loan_application_score(loan=apply(alice))
    without = loan_application_score(loan=apply(dave, principal=50 * USD))
    assert with_profile.score > without.score
    assert "reason_income_not_declared" not in with_profile.reasons


@pytest.fixture
def eager_celery():
    """Queued tasks run in this process, as a worker would run them."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def send_some(chain, account, count: int) -> None:
    for _ in range(count):
        chain.send(account.key.to_0x_hex(),
                   [UnsignedTx(to=account.address, data="0x", step="ping")])


def active_wallet(chain, *, sent: int):
    """A fresh account on the test chain that has sent `sent` transactions."""
    account = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [account.address, hex(10**19)])
    send_some(chain, account, sent)
    return account


@pytest.mark.django_db
def test_a_linked_wallets_history_reaches_the_score_on_the_production_path(
        chain, settings, eager_celery, django_capture_on_commit_callbacks):
    settings.RPC_URL = chain.rpc_url
    wallet = active_wallet(chain, sent=2).address
    with django_capture_on_commit_callbacks(execute=True):  # linking queues the refresh
        erin = factories.borrower(telegram_id=1010, username="erin", wallet=wallet)
    loan = apply(erin)
    tasks.score_application.delay(loan.pk)  # what submitting an application queues
    score = Score.objects.get(loan=loan)
    assert score.features["wallet_tx_count"] == 2
    assert score.features["wallet_age_days"] is not None
    assert "reason_wallet_history_unknown" not in score.reasons
    assert WalletSignal.objects.get(user=erin).address == wallet


@pytest.mark.django_db
def test_the_sweep_reads_missing_and_stale_signals_only_and_a_bounded_number(chain, settings):
    settings.RPC_URL = chain.rpc_url
    accounts = [active_wallet(chain, sent=1) for _ in range(3)]
    people = [factories.borrower(telegram_id=1020 + i, username=f"p{i}",
                                 wallet=account.address) for i, account in enumerate(accounts)]
    refresh = tasks.refresh_stale_wallet_signals
    with time_machine.travel(datetime(2026, 12, 1, 12, tzinfo=UTC), tick=False):
        settings.WALLET_SIGNAL_REFRESH_BATCH = 2
        assert refresh.apply().get() == 2  # missing ones, at most the batch
        assert refresh.apply().get() == 1
        assert refresh.apply().get() == 0  # all fresh: nothing to read
    first = {s.user_id: s.first_tx_at for s in WalletSignal.objects.all()}
    assert set(first) == {person.pk for person in people} and None not in first.values()
    send_some(chain, accounts[0], 2)
    with time_machine.travel(datetime(2026, 12, 2, 11, 59, tzinfo=UTC), tick=False):
        assert refresh.apply().get() == 0  # under a day old
    with time_machine.travel(datetime(2026, 12, 2, 12, 1, tzinfo=UTC), tick=False):
        settings.WALLET_SIGNAL_REFRESH_BATCH = 10
        assert refresh.apply().get() == 3
    signals = {s.user_id: s for s in WalletSignal.objects.all()}
    assert [signals[person.pk].tx_count for person in people] == [3, 1, 1]
    assert {pk: signal.first_tx_at for pk, signal in signals.items()} == first
