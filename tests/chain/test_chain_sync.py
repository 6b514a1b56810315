"""The indexer task when the RPC node is down, then back: retried, and nothing is skipped."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from eth_account import Account

from core.chain.models import ChainCursor, ChainLog
from core.chain.tasks import sync_chain
from core.common.chain import _web3
from core.loans.states import LoanState
from core.signing import actions
from onchain.transactions import Builder
from tests import factories
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
ALICE, BOB = dev_key(23), dev_key(24)


def test_a_dead_rpc_is_retried_and_indexing_resumes_where_it_stopped(chain, settings):
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    start = chain.w3.eth.block_number + 1
    ChainCursor.objects.create(chain_id=31337, next_block=start)
    for key in (ALICE, BOB):
        chain.faucet(key, 500 * USD)
    alice = factories.borrower(telegram_id=6001, username="alice_d",
                               wallet=Account.from_key(ALICE).address)
    factories.lender(telegram_id=6002, username="bob_d", wallet=Account.from_key(BOB).address)
    loan = factories.approved_loan(borrower=alice, principal=50 * USD, installments=1)
    chain.sign(ALICE, actions.open_loan_request(user=alice, loan=loan))
    # While the indexer is blind, bob funds the whole loan straight through the contract.
    chain_loan_id = chain.deployment.contract("LoanBook", chain.w3).functions.loanCount().call()
    chain.send(BOB, Builder(chain.deployment).fund(chain_loan_id, 50 * USD))

    settings.RPC_URL = "http://127.0.0.1:9"  # nothing listens there
    _web3.cache_clear()
    with pytest.raises(Retry):
        sync_chain.apply()
    assert ChainCursor.objects.get().next_block == start
    assert not ChainLog.objects.exists()

    settings.RPC_URL = chain.rpc_url
    _web3.cache_clear()
    sync_chain.apply().get()
    loan.refresh_from_db()
    assert loan.state == LoanState.FUNDED and loan.funded_amount == 50 * USD
    assert list(ChainLog.objects.values_list("name", flat=True)) == [
        "LoanOpened", "Funded", "FundingCompleted"]
