"""The side exits of a loan on a real chain: an expired listing refunds its lenders, and a
default is covered by the backstop pool and then recovered, with the ledger equal to the chain
to the base unit at every step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eth_account import Account

from core.chain.models import ChainLog
from core.chain.reconciliation import reconciliation_run
from core.ledger.models import AccountKind
from core.ledger.selectors import kind_balance, trial_balance
from core.loans import services as loans
from core.loans.models import FundingPosition, Repayment
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningStatus
from onchain.transactions import Builder
from tests import factories
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(15), "bob": dev_key(16), "charlie": dev_key(17),
        "depositor": dev_key(18), "keeper": dev_key(19)}
LENDERS = ("bob", "charlie")


def address(name: str) -> str:
    return Account.from_key(KEYS[name]).address


@pytest.fixture
def rewound_chain(chain):
    """These tests move the chain's clock by weeks: put it back for the rest of the session,
    whose loan approvals are dated by the wall clock."""
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    yield chain
    chain.w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def world(rewound_chain, settings):
    return people_on_chain(rewound_chain, settings, KEYS, first_telegram_id=4301, suffix="l",
                           tokens=1_000 * USD)


def sign(chain, name, created):
    """The wallet signs the request, and the indexer picks it up."""
    request = chain.sign(KEYS[name], created)
    chain.sync()
    request.refresh_from_db()
    return request


def chain_now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


def listed_loan(chain, world, **terms):
    loan = factories.approved_loan(borrower=world["alice"], **terms)
    sign(chain, "alice", actions.open_loan_request(user=world["alice"], loan=loan))
    loan.refresh_from_db()
    return loan


def fund(chain, world, loan, amounts: dict[str, int]):
    for name, amount in amounts.items():
        sign(chain, name, actions.fund_request(user=world[name], loan=loan, amount=amount))
        loan.refresh_from_db()


def assert_wallets_match_chain(chain, world, start_balances):
    for name, start in start_balances.items():
        assert kind_balance(kind=AccountKind.WALLET, user=world[name]) == (
            chain.balance(address(name)) - start), name


def assert_claimable_matches_chain(loan_book, world, loan):
    for name in LENDERS:
        on_chain = loan_book.functions.claimable(loan.chain_loan_id, address(name)).call()
        assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, loan=loan,
                            user=world[name]) == on_chain, name


def test_an_expired_listing_is_refunded_to_each_lender(rewound_chain, world):
    chain = rewound_chain
    start = {name: chain.balance(address(name)) for name in LENDERS}
    loan = listed_loan(chain, world, principal=300 * USD, installments=3)
    fund(chain, world, loan, {"bob": 100 * USD, "charlie": 50 * USD})
    assert loan.state == LoanState.FUNDING and loan.funded_amount == 150 * USD

    chain.mine_after(int(loan.funding_deadline.timestamp()) - chain_now(chain) + 60)
    # Anyone may expire it on chain: a keeper without a Telegram account here.
    chain.send(KEYS["keeper"], Builder(chain.deployment).expire(loan.chain_loan_id))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.EXPIRED
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 150 * USD

    for name in LENDERS:
        request = sign(chain, name, actions.refund_request(user=world[name], loan=loan))
        assert request.status == SigningStatus.CONFIRMED

    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 0
    assert_wallets_match_chain(chain, world, start)
    for name, amount in (("bob", 100 * USD), ("charlie", 50 * USD)):
        position = FundingPosition.objects.get(loan=loan, lender=world[name])
        assert (position.amount, position.refunded) == (amount, amount)
        assert loan_book.functions.positionOf(loan.chain_loan_id,
                                              address(name)).call() == [amount, amount]
        assert chain.balance(address(name)) == start[name]
    assert trial_balance() == 0
    assert not ChainLog.objects.exclude(problem="").exists()
    assert reconciliation_run(w3=chain.w3, deployment=chain.deployment).ok


def test_a_default_is_covered_by_the_pool_and_a_recovery_refills_it_first(rewound_chain, world):
    chain = rewound_chain
    alice = world["alice"]
    builder = Builder(chain.deployment)
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    pool = chain.deployment.contract("LiquidityBackstopPool", chain.w3)
    # The depositor is only a wallet: pool deposits need no Telegram account.
    chain.send(KEYS["depositor"], builder.pool_deposit(500 * USD, address("depositor")))
    pool_start = pool.functions.totalAssets().call()
    start = {name: chain.balance(address(name)) for name in ("alice", *LENDERS)}

    loan = listed_loan(chain, world, principal=300 * USD, installments=3, apr_bps=1800)
    fund(chain, world, loan, {"bob": 100 * USD, "charlie": 200 * USD})
    sign(chain, "alice", actions.drawdown_request(user=alice, loan=loan))
    loan.refresh_from_db()
    assert loan.state == LoanState.ACTIVE

    first_due = loan.schedule.get(number=1).due_at
    grace = loan_book.functions.gracePeriod().call()
    chain.mine_after(int(first_due.timestamp()) + grace - chain_now(chain) + 60)
    now = datetime.fromtimestamp(chain_now(chain), tz=UTC)
    loans.loan_refresh_lateness(loan=loan, now=now)
    assert loan.state == LoanState.LATE

    chain.send(KEYS["keeper"], builder.mark_default(loan.chain_loan_id))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.DEFAULTED
    cover = ChainLog.objects.get(name="Defaulted").args["cover"]
    assert cover > 0 and loan.covered_amount == cover
    assert loan.distributed_to_lenders == loan_book.functions.distributed(
        loan.chain_loan_id).call() == cover
    assert_claimable_matches_chain(loan_book, world, loan)
    assert kind_balance(kind=AccountKind.BACKSTOP_POOL) == -cover == (
        pool.functions.totalAssets().call() - pool_start)

    # A recovery bigger than the cover: the pool is made whole first, the rest is the lenders'.
    sign(chain, "alice", actions.repay_request(user=alice, loan=loan, amount=200 * USD))
    recovered = ChainLog.objects.get(name="Recovered").args
    repayment = Repayment.objects.get(loan=loan)
    assert recovered["toPool"] == cover and recovered["toLenders"] > 0
    assert (repayment.to_pool, repayment.to_lenders) == (cover, recovered["toLenders"])
    loan.refresh_from_db()
    assert loan.repaid_amount == 200 * USD and loan.state == LoanState.DEFAULTED
    assert loan.distributed_to_lenders == loan_book.functions.distributed(
        loan.chain_loan_id).call()
    assert_claimable_matches_chain(loan_book, world, loan)
    assert kind_balance(kind=AccountKind.BACKSTOP_POOL) == (
        pool.functions.totalAssets().call() - pool_start) == repayment.premium

    for name in LENDERS:
        assert sign(chain, name, actions.claim_request(user=world[name])).status == (
            SigningStatus.CONFIRMED)
    for name in LENDERS:
        assert loan_book.functions.claimable(loan.chain_loan_id, address(name)).call() == 0
    assert_claimable_matches_chain(loan_book, world, loan)
    assert_wallets_match_chain(chain, world, start)
    assert trial_balance() == 0
    assert not ChainLog.objects.exclude(problem="").exists()
    assert reconciliation_run(w3=chain.w3, deployment=chain.deployment).ok
