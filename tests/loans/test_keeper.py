"""The keeper on a real chain: listings past their funding deadline are expired and loans past
their grace period marked defaulted, once, through the platform's nonce manager; the indexer
then moves the loan, posts the money and tells everyone exactly once."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from core.chain.models import ChainLog
from core.chain.reconciliation import reconciliation_run
from core.ledger.selectors import trial_balance
from core.loans.keeper import listings_expire, loans_mark_defaults
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.signing import actions
from onchain.transactions import Builder
from tests import factories
from tests.chain import dev_key, people_on_chain
from tests.concurrency import needs_postgres, race

USD = factories.USD
KEYS = {"alice": dev_key(60), "bob": dev_key(61), "charlie": dev_key(62),
        "depositor": dev_key(63)}
KEEPER_KEY = dev_key(64)


@pytest.fixture
def rewound_chain(chain):
    """These tests move the chain's clock by weeks: put it back afterwards."""
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    yield chain
    chain.w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def world(rewound_chain, settings, tmp_path):
    settings.KEEPER_PRIVATE_KEY = KEEPER_KEY
    settings.NONCE_LOCK_DIR = str(tmp_path / "nonces")
    rewound_chain.w3.provider.make_request(
        "anvil_setBalance", [Account.from_key(KEEPER_KEY).address, hex(10**20)])
    return people_on_chain(rewound_chain, settings, KEYS, first_telegram_id=4701, suffix="k",
                           tokens=1_000 * USD)


def sign(chain, name, created):
    chain.sign(KEYS[name], created)
    chain.sync()


def chain_now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


def funded_listing(chain, world, amounts):
    loan = factories.approved_loan(borrower=world["alice"], principal=300 * USD, installments=3)
    sign(chain, "alice", actions.open_loan_request(user=world["alice"], loan=loan))
    loan.refresh_from_db()
    for name, amount in amounts.items():
        sign(chain, name, actions.fund_request(user=world[name], loan=loan, amount=amount))
    loan.refresh_from_db()
    return loan


def drawn_loan(chain, world):
    chain.send(KEYS["depositor"], Builder(chain.deployment).pool_deposit(
        500 * USD, Account.from_key(KEYS["depositor"]).address))
    loan = funded_listing(chain, world, {"bob": 100 * USD, "charlie": 200 * USD})
    sign(chain, "alice", actions.drawdown_request(user=world["alice"], loan=loan))
    loan.refresh_from_db()
    assert loan.state == LoanState.ACTIVE
    return loan


def messages(template_key):
    return sorted(OutboxMessage.objects.filter(template_key=template_key)
                  .values_list("recipient__username", flat=True))


def keeper(chain, job):
    """One keeper process: its own connection to the node."""
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    return lambda: job(w3=w3, deployment=chain.deployment)


def past_grace(chain, loan):
    grace = chain.deployment.contract("LoanBook", chain.w3).functions.gracePeriod().call()
    due = int(loan.schedule.get(number=1).due_at.timestamp())
    chain.mine_after(due + grace - chain_now(chain) + 60)


def assert_defaulted_once(chain, loan):
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.DEFAULTED
    assert ChainLog.objects.filter(name="Defaulted").count() == 1
    assert loan.covered_amount == ChainLog.objects.get(name="Defaulted").args["cover"] > 0
    assert messages("loan_defaulted") == ["alice_k"]
    assert messages("lender_loan_defaulted") == ["bob_k", "charlie_k"]
    assert trial_balance() == 0
    assert reconciliation_run(w3=chain.w3, deployment=chain.deployment).ok


@pytest.mark.django_db
def test_the_keeper_waits_for_the_grace_period_then_marks_the_default_once(rewound_chain,
                                                                          world):
    chain = rewound_chain
    loan = drawn_loan(chain, world)
    job = keeper(chain, loans_mark_defaults)
    # Past due, but within the grace period: the contract would refuse, so nothing is sent.
    chain.mine_after(int(loan.schedule.get(number=1).due_at.timestamp()) - chain_now(chain)
                     + 3600)
    early = job()
    assert (early.sent, early.not_due) == ({}, 1)

    past_grace(chain, loan)
    first = job()
    assert list(first.sent) == [loan.pk] and not first.failed
    # Run again before the indexer has seen it (a retry after a crash): the chain says it
    # is done, so nothing is sent.
    again = job()
    assert (again.sent, again.not_due, again.failed) == ({}, 1, {})
    assert_defaulted_once(chain, loan)
    assert job().sent == {}


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_keepers_at_once_send_one_default(rewound_chain, world):
    chain = rewound_chain
    loan = drawn_loan(chain, world)
    past_grace(chain, loan)
    runs = race(keeper(chain, loans_mark_defaults), runners=2)
    assert [pk for run in runs for pk in run.sent] == [loan.pk]
    assert not any(run.failed for run in runs)
    assert_defaulted_once(chain, loan)


@pytest.mark.django_db
def test_the_keeper_expires_a_listing_past_its_funding_deadline_and_lenders_hear_once(
        rewound_chain, world):
    chain = rewound_chain
    loan = funded_listing(chain, world, {"bob": 100 * USD, "charlie": 50 * USD})
    job = keeper(chain, listings_expire)
    assert job().sent == {}  # the deadline has not passed
    chain.mine_after(int(loan.funding_deadline.timestamp()) - chain_now(chain) + 60)
    assert list(job().sent) == [loan.pk]
    assert job().sent == {}  # the chain says expired: a re-run sends nothing
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.EXPIRED
    assert ChainLog.objects.filter(name="LoanExpired").count() == 1
    assert messages("loan_expired") == ["alice_k"]
    assert messages("refund_available") == ["bob_k", "charlie_k"]
    assert job().sent == {}


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_keepers_at_once_expire_a_listing_once(rewound_chain, world):
    chain = rewound_chain
    loan = funded_listing(chain, world, {"bob": 100 * USD})
    chain.mine_after(int(loan.funding_deadline.timestamp()) - chain_now(chain) + 60)
    runs = race(keeper(chain, listings_expire), runners=2)
    assert [pk for run in runs for pk in run.sent] == [loan.pk]
    chain.sync()
    assert ChainLog.objects.filter(name="LoanExpired").count() == 1
    assert messages("refund_available") == ["bob_k"]
