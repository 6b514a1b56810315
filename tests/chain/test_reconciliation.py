"""Reconciliation against a real chain: a clean book reports nothing; a ledger or loan mirror
that drifted from the LoanBook is reported field by field and alerts each admin once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from eth_account import Account

from core.chain.models import ChainCursor, ReconciliationRun
from core.chain.reconciliation import Difference, reconciliation_run
from core.loans.models import FundingPosition, Installment
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.signing import actions
from core.users import services as users
from onchain.transactions import Builder
from tests import factories
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(12), "bob": dev_key(13), "charlie": dev_key(14)}
ADMIN_IDS = [9101, 9102]


def address(name: str) -> str:
    return Account.from_key(KEYS[name]).address


@pytest.fixture
def world(chain, settings):
    settings.ADMIN_TELEGRAM_IDS = ADMIN_IDS
    people = people_on_chain(chain, settings, KEYS, first_telegram_id=4201, suffix="r",
                             tokens=2_000 * USD)
    for telegram_id in ADMIN_IDS:
        users.user_get_or_create_from_telegram(telegram_id=telegram_id,
                                               username=f"admin{telegram_id}",
                                               language_code="en")
    return people


def sign(chain, name, created):
    """The wallet signs the request, and the indexer picks it up."""
    request = chain.sign(KEYS[name], created)
    chain.sync()
    return request


def reconcile(chain):
    return reconciliation_run(w3=chain.w3, deployment=chain.deployment)


def active_loan(chain, world, *, installments_paid: int):
    """A loan funded by bob (1/3) and charlie (2/3), drawn down, with some installments paid."""
    alice = world["alice"]
    loan = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3,
                                   apr_bps=1800)
    sign(chain, "alice", actions.open_loan_request(user=alice, loan=loan))
    loan.refresh_from_db()
    sign(chain, "bob", actions.fund_request(user=world["bob"], loan=loan, amount=100 * USD))
    loan.refresh_from_db()
    sign(chain, "charlie", actions.fund_request(user=world["charlie"], loan=loan,
                                                amount=200 * USD))
    loan.refresh_from_db()
    sign(chain, "alice", actions.drawdown_request(user=alice, loan=loan))
    for item in Installment.objects.filter(loan=loan).order_by("number")[:installments_paid]:
        loan.refresh_from_db()
        sign(chain, "alice", actions.repay_request(user=alice, loan=loan, amount=item.amount))
    loan.refresh_from_db()
    return loan


def alerts():
    return OutboxMessage.objects.filter(template_key="admin_reconciliation_mismatch")


def test_a_clean_run_after_a_full_flow_reports_no_difference(chain, world):
    loan = active_loan(chain, world, installments_paid=3)
    # Bob collects; charlie leaves his share in the contract, so claimable is checked non-zero.
    sign(chain, "bob", actions.claim_request(user=world["bob"]))
    loan.refresh_from_db()
    assert loan.state == LoanState.REPAID

    report = reconcile(chain)

    assert report.differences == [] and report.ok
    assert report.loans_checked == 1
    run = ReconciliationRun.objects.get()
    assert run.ok and run.finished_at is not None and run.differences == []
    assert run.block_number == chain.w3.eth.block_number
    assert not alerts().exists()


def test_a_tampered_position_is_reported_and_alerts_each_admin_once_a_day(chain, world):
    loan = active_loan(chain, world, installments_paid=1)
    bob = world["bob"]
    FundingPosition.objects.filter(loan=loan, lender=bob).update(amount=101 * USD)

    # Only the reconciliation runs see a stopped clock (the chain helpers wait on real time):
    # the first at 00:30 UTC, the second the same day at 23:30, a third the next morning.
    day = datetime(2026, 12, 5, tzinfo=UTC)
    with time_machine.travel(day + timedelta(minutes=30), tick=False):
        report = reconcile(chain)

    assert report.differences == [Difference(loan_id=loan.pk, chain_loan_id=loan.chain_loan_id,
                                             field="position_funded", ledger=101 * USD,
                                             chain=100 * USD, lender_id=bob.pk)]
    assert not report.ok and report.alerts_queued == len(ADMIN_IDS)
    assert sorted(alerts().values_list("recipient__telegram_id", flat=True)) == ADMIN_IDS
    params = alerts().first().params
    assert params["differences"] == 1 and params["loans_checked"] == 1
    assert params["examples"][0]["field"] == "position_funded"
    run = ReconciliationRun.objects.get()
    assert not run.ok and run.differences_count == 1
    assert run.differences[0]["ledger"] == 101 * USD

    with time_machine.travel(day + timedelta(hours=23, minutes=30), tick=False):
        again = reconcile(chain)

    assert again.differences == report.differences and again.alerts_queued == 0
    assert alerts().count() == len(ADMIN_IDS)
    with time_machine.travel(day + timedelta(days=1, hours=8), tick=False):
        next_day = reconcile(chain)
    assert next_day.alerts_queued == len(ADMIN_IDS)
    assert alerts().count() == 2 * len(ADMIN_IDS)
    assert ReconciliationRun.objects.count() == 3


def test_a_repayment_the_indexer_never_applied_is_reported_with_its_amounts(chain, world):
    loan = active_loan(chain, world, installments_paid=1)
    second = Installment.objects.get(loan=loan, number=2)
    chain.send(KEYS["alice"], Builder(chain.deployment).repay(loan.chain_loan_id, second.amount))
    # The indexer moves past the block without applying it (a lost batch).
    ChainCursor.objects.filter(chain_id=31337).update(next_block=chain.w3.eth.block_number + 1)

    report = reconcile(chain)

    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    chain_loan = loan_book.functions.getLoan(loan.chain_loan_id).call()
    by_field = {(d.field, d.lender_id): d for d in report.differences}
    repaid = by_field[("repaid", None)]
    assert (repaid.ledger, repaid.chain) == (loan.repaid_amount,
                                             loan.repaid_amount + second.amount)
    assert repaid.chain == chain_loan[10]
    distributed = by_field[("distributed", None)]
    assert distributed.ledger == loan.distributed_to_lenders
    assert distributed.chain == loan_book.functions.distributed(loan.chain_loan_id).call()
    for name in ("bob", "charlie"):
        claimable = by_field[("claimable", world[name].pk)]
        assert claimable.chain == loan_book.functions.claimable(loan.chain_loan_id,
                                                                address(name)).call()
        assert claimable.chain > claimable.ledger
    assert set(by_field) == {("repaid", None), ("distributed", None),
                             ("claimable", world["bob"].pk), ("claimable", world["charlie"].pk)}
    assert alerts().count() == len(ADMIN_IDS)


def test_activity_the_indexer_has_not_reached_yet_is_not_a_difference(chain, world):
    loan = active_loan(chain, world, installments_paid=1)
    second = Installment.objects.get(loan=loan, number=2)
    chain.send(KEYS["alice"], Builder(chain.deployment).repay(loan.chain_loan_id, second.amount))

    report = reconcile(chain)

    assert report.ok and report.block_number == chain.w3.eth.block_number - 2
    chain.sync()
    assert reconcile(chain).ok
