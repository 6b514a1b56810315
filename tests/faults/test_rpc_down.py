"""The chain's RPC node goes away and comes back (a real anvil, stopped and restarted from its
state file): the indexer and the default keeper retry, then catch up without missing an event.

A 3-block reorganisation on anvil is tested in tests/chain/test_reorg.py."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from eth_account import Account
from web3 import Web3

from core.chain.models import ChainCursor, ChainLog
from core.chain.tasks import sync_chain
from core.common.chain import _web3
from core.ledger.selectors import trial_balance
from core.loans.states import LoanState
from core.loans.tasks import mark_defaults
from core.signing import actions
from onchain.contracts import Deployment
from onchain.transactions import Builder
from tests import factories
from tests.chain import Chain, dev_key, people_on_chain
from tests.disposable import DisposableAnvil

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(70), "bob": dev_key(71), "charlie": dev_key(72),
        "depositor": dev_key(73)}
KEEPER_KEY = dev_key(74)


@pytest.fixture
def node(tmp_path, settings):
    from onchain.deploy import deploy

    node = DisposableAnvil(tmp_path / "anvil").start()
    try:
        addresses = tmp_path / "addresses.json"
        deploy(node.rpc_url, addresses_file=addresses, abi_dir=tmp_path / "abi")
        settings.RPC_URL = node.rpc_url
        settings.ONCHAIN_ADDRESSES_FILE = addresses
        _web3.cache_clear()
        yield node, Chain(rpc_url=node.rpc_url, w3=Web3(Web3.HTTPProvider(node.rpc_url)),
                          addresses_file=addresses,
                          deployment=Deployment.for_chain(31337, path=addresses))
    finally:
        node.stop()
        _web3.cache_clear()


def head(chain: Chain) -> tuple[int, str]:
    block = chain.w3.eth.get_block("latest")
    return block["number"], block["hash"].to_0x_hex()


def test_the_indexer_and_the_keeper_retry_while_the_node_is_down_then_catch_up(
        node, settings, tmp_path):
    node, chain = node
    settings.KEEPER_PRIVATE_KEY = KEEPER_KEY
    settings.NONCE_LOCK_DIR = str(tmp_path / "nonces")
    chain.w3.provider.make_request("anvil_setBalance",
                                   [Account.from_key(KEEPER_KEY).address, hex(10**20)])
    people = people_on_chain(chain, settings, KEYS, first_telegram_id=4801, suffix="rpc",
                             tokens=1_000 * USD)
    alice = people["alice"]
    chain.send(KEYS["depositor"], Builder(chain.deployment).pool_deposit(
        500 * USD, Account.from_key(KEYS["depositor"]).address))
    loan = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3)
    chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    sync_chain.apply().get()
    loan.refresh_from_db()
    for name, amount in (("bob", 100 * USD), ("charlie", 200 * USD)):
        chain.sign(KEYS[name], actions.fund_request(user=people[name], loan=loan, amount=amount))
    sync_chain.apply().get()
    loan.refresh_from_db()
    chain.sign(KEYS["alice"], actions.drawdown_request(user=alice, loan=loan))
    sync_chain.apply().get()
    loan.refresh_from_db()
    assert loan.state == LoanState.ACTIVE

    # An event the indexer has not seen yet when the node goes away.
    chain.send(KEYS["alice"], Builder(chain.deployment).repay(loan.chain_loan_id, 10 * USD))
    cursor = ChainCursor.objects.get().next_block
    before = head(chain)

    node.stop()
    with pytest.raises(Retry):
        sync_chain.apply()
    with pytest.raises(Retry):
        mark_defaults.apply()
    assert ChainCursor.objects.get().next_block == cursor
    assert not ChainLog.objects.filter(name__in=["Repaid", "Defaulted"]).exists()

    node.start()
    assert head(chain) == before, "the restarted node must serve the same blocks"
    sync_chain.apply().get()
    loan.refresh_from_db()
    assert loan.repaid_amount == 10 * USD
    # Past the grace period of the first installment (after the restart: anvil's state file
    # keeps blocks, not a clock moved by evm_increaseTime), the keeper marks the default.
    grace = chain.deployment.contract("LoanBook", chain.w3).functions.gracePeriod().call()
    due = int(loan.schedule.get(number=1).due_at.timestamp())
    chain.mine_after(due + grace - chain.w3.eth.get_block("latest")["timestamp"] + 60)
    assert mark_defaults.apply().get() == 1
    sync_chain.apply().get()
    loan.refresh_from_db()
    assert loan.state == LoanState.DEFAULTED

    names = list(ChainLog.objects.order_by("block_number", "log_index")
                 .values_list("name", flat=True))
    assert names.count("Defaulted") == 1
    assert names.index("LoanOpened") < names.index("DrawnDown") < names.index("Defaulted")
    assert len(names) == len(set(ChainLog.objects.values_list("tx_hash", "log_index")))
    assert not loan.transitions.filter(actor_label="reorg").exists()
    assert trial_balance() == 0
