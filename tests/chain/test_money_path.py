"""The full money path on a real chain: services build the signing requests, test wallets
sign them, the indexer applies the logs, and the ledger equals the chain to the base unit."""

from __future__ import annotations

import pytest
from eth_account import Account

from core.chain.models import ChainLog
from core.ledger.models import AccountKind
from core.ledger.selectors import kind_balance, trial_balance
from core.loans.funding import FundingRefused
from core.loans.models import FundingPosition, Installment
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningStatus
from tests import factories
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(8), "bob": dev_key(9), "charlie": dev_key(10)}


def address(name: str) -> str:
    return Account.from_key(KEYS[name]).address


@pytest.fixture
def world(chain, settings):
    return people_on_chain(chain, settings, KEYS, first_telegram_id=4001, suffix="c",
                           tokens=2_000 * USD)


def test_open_fund_draw_repay_claim_ends_with_ledger_equal_to_chain(chain, world):
    alice, bob, charlie = world["alice"], world["bob"], world["charlie"]
    start_balances = {name: chain.balance(address(name)) for name in KEYS}
    loan = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3,
                                   apr_bps=1800)

    opened = chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()
    opened.refresh_from_db()
    assert loan.state == LoanState.LISTED and loan.chain_loan_id is not None
    assert opened.status == SigningStatus.CONFIRMED

    chain.sign(KEYS["bob"], actions.fund_request(user=bob, loan=loan, amount=100 * USD))
    chain.sync()
    loan.refresh_from_db()
    chain.sign(KEYS["charlie"], actions.fund_request(user=charlie, loan=loan, amount=200 * USD))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.FUNDED

    chain.sign(KEYS["alice"], actions.drawdown_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.ACTIVE
    chain_start = chain.deployment.contract("LoanBook", chain.w3).functions.getLoan(
        loan.chain_loan_id).call()
    assert Installment.objects.filter(loan=loan).count() == 3

    for item in Installment.objects.filter(loan=loan).order_by("number"):
        loan.refresh_from_db()
        chain.sign(KEYS["alice"], actions.repay_request(user=alice, loan=loan, amount=item.amount))
        chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.REPAID and loan.repaid_amount == loan.total_due
    assert chain_start is not None

    for name in ("bob", "charlie"):
        chain.sign(KEYS[name], actions.claim_request(user=world[name]))
    chain.sync()

    assert list(ChainLog.objects.exclude(problem="").values_list("problem", flat=True)) == []
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    for name in ("bob", "charlie"):
        position = FundingPosition.objects.get(loan=loan, lender=world[name])
        funded, claimed = loan_book.functions.positionOf(loan.chain_loan_id,
                                                         address(name)).call()
        assert (position.amount, position.claimed) == (funded, claimed)
        assert loan_book.functions.claimable(loan.chain_loan_id, address(name)).call() == 0
        # Every token that left or reached the wallet is in the ledger, to the base unit.
        assert kind_balance(kind=AccountKind.WALLET, user=world[name]) == (
            chain.balance(address(name)) - start_balances[name])
    assert kind_balance(kind=AccountKind.WALLET, user=alice) == (
        chain.balance(address("alice")) - start_balances["alice"])
    distributed = loan_book.functions.distributed(loan.chain_loan_id).call()
    assert loan.distributed_to_lenders == distributed
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 0
    assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, loan=loan) == 0
    assert trial_balance() == 0
    assert list(ChainLog.objects.exclude(problem="").values_list("problem", flat=True)) == []

    # Everyone concerned heard about it, once per event.
    from core.notifications.models import OutboxMessage

    keys = list(OutboxMessage.objects.values_list("recipient__username", "template_key"))
    assert ("alice_c", "loan_listed") in keys and ("alice_c", "loan_funded") in keys
    assert keys.count(("alice_c", "repayment_received")) == 3
    assert keys.count(("bob_c", "lender_repayment_received")) == 3
    assert ("charlie_c", "claim_confirmed") in keys

    # Indexing again changes nothing.
    before = (loan.repaid_amount, trial_balance(), ChainLog.objects.count(),
              OutboxMessage.objects.count())
    chain.sync()
    loan.refresh_from_db()
    assert (loan.repaid_amount, trial_balance(), ChainLog.objects.count(),
            OutboxMessage.objects.count()) == before


def test_a_funding_from_an_unlinked_wallet_is_kept_with_its_problem(chain, world):
    alice = world["alice"]
    loan = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()
    stranger = dev_key(11)
    chain.faucet(stranger, 100 * USD)
    from onchain.transactions import Builder

    chain.send(stranger, Builder(chain.deployment).fund(loan.chain_loan_id, 10 * USD))
    chain.sync()
    problem = ChainLog.objects.get(name="Funded")
    assert problem.applied_at is None and "not linked" in problem.problem
    loan.refresh_from_db()
    assert loan.funded_amount == 0


def test_actions_refuse_what_the_user_may_not_do(chain, world):
    alice, bob = world["alice"], world["bob"]
    loan = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    with pytest.raises(actions.ActionRefused, match="not your loan"):
        actions.open_loan_request(user=bob, loan=loan)
    with pytest.raises(FundingRefused, match="not open for funding"):
        actions.fund_request(user=bob, loan=loan, amount=USD)
    with pytest.raises(actions.ActionRefused, match="not fully funded"):
        actions.drawdown_request(user=alice, loan=loan)
    with pytest.raises(actions.ActionRefused, match="nothing to collect"):
        actions.claim_request(user=bob)
