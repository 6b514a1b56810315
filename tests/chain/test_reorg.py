"""A chain reorganisation on anvil: the indexer takes back what the lost blocks did and applies
the canonical chain instead; the ledger keeps its history as reversing entries."""

from __future__ import annotations

import pytest
from eth_account import Account

from core.chain.models import ChainCursor, ChainLog
from core.ledger.models import AccountKind, JournalEntry
from core.ledger.selectors import kind_balance, trial_balance
from core.loans.models import FundingPosition
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from tests import factories
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(20), "bob": dev_key(21), "charlie": dev_key(22)}


def address(name):
    return Account.from_key(KEYS[name]).address


def test_a_three_block_reorg_is_rolled_back_and_the_canonical_chain_applied(chain, settings):
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    for key in KEYS.values():
        chain.faucet(key, 1_000 * USD)
    alice = factories.borrower(telegram_id=5001, username="alice_r", wallet=address("alice"))
    bob = factories.lender(telegram_id=5002, username="bob_r", wallet=address("bob"))
    charlie = factories.lender(telegram_id=5003, username="charlie_r",
                               wallet=address("charlie"))
    loan = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()

    charlie_request = actions.fund_request(user=charlie, loan=loan, amount=40 * USD)
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    bob_request = chain.sign(KEYS["bob"],
                             actions.fund_request(user=bob, loan=loan, amount=100 * USD))
    chain.w3.provider.make_request("evm_mine", [])
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.FUNDED and loan.funded_amount == 100 * USD

    # The three blocks with bob's funding vanish; on the new chain charlie funds instead.
    chain.w3.provider.make_request("evm_revert", [snapshot])
    chain.sign(KEYS["charlie"], charlie_request)
    for _ in range(2):
        chain.w3.provider.make_request("evm_mine", [])
    result = chain.sync()

    assert result.rolled_back >= 1
    loan.refresh_from_db()
    chain_loan = chain.deployment.contract("LoanBook", chain.w3).functions.getLoan(
        loan.chain_loan_id).call()
    assert loan.funded_amount == 40 * USD
    assert loan.state == LoanState.FUNDING
    assert FundingPosition.objects.get(loan=loan, lender=bob).amount == 0
    assert FundingPosition.objects.get(loan=loan, lender=charlie).amount == 40 * USD
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 40 * USD
    assert kind_balance(kind=AccountKind.WALLET, user=bob) == 0
    assert trial_balance() == 0
    assert JournalEntry.objects.filter(key__startswith="reversal:").count() == 1
    assert loan.transitions.filter(actor_label="reorg").exists()
    assert not ChainLog.objects.filter(tx_hash__in=bob_request.tx_hashes).exists()
    assert SigningRequest.objects.get(pk=bob_request.pk).status == SigningStatus.SUBMITTED
    assert chain_loan is not None
