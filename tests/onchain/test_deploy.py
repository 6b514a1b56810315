"""Deploying to a fresh anvil, and one loan's life through web3 with real transactions.

Runs without Django: ``.venv/bin/python -m pytest tests/onchain/test_deploy.py -p no:django``.
The deployment writes to a temporary folder; the committed addresses.json and ABIs are only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from onchain import deploy as deployment
from onchain.approvals import LoanApproval, sign_loan_approval
from onchain.devchain import DevChain, anvil_path

USD = 10**6
MAX_UINT = 2**256 - 1
MONTH = 30 * 86400

# anvil's default accounts 5-7 (public dev keys): a borrower and two lenders.
ALICE = Account.from_key("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba")
BOB = Account.from_key("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e")
CAROL = Account.from_key("0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356")
DEPLOYER = Account.from_key(deployment.DEV["deployer"].private_key)
UNDERWRITER = Account.from_key(deployment.DEV["underwriter"].private_key)
TREASURY = Account.from_key(deployment.DEV["treasury"].private_key)



@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    if not anvil_path().exists():
        pytest.fail(f"anvil missing at {anvil_path()}: run `npm ci` in contracts/")
    deployment.ensure_built()
    folder = tmp_path_factory.mktemp("deploy")
    with DevChain.start() as dev:
        entry = deployment.deploy(
            dev.rpc_url, addresses_file=folder / "addresses.json", abi_dir=folder / "abi"
        )
        yield {
            "rpc_url": dev.rpc_url,
            "w3": Web3(Web3.HTTPProvider(dev.rpc_url)),
            "entry": entry,
            "folder": folder,
        }


def contract(chain, name):
    abi = json.loads((chain["folder"] / "abi" / f"{name}.json").read_text())
    return chain["w3"].eth.contract(address=chain["entry"][name], abi=abi)


def send(w3, account, call):
    tx = call.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            "gas": 1_000_000,
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1, f"{call.fn_name} reverted"
    return receipt


def role(name: str) -> bytes:
    return Web3.keccak(text=name)


def test_it_deploys_at_the_committed_addresses(chain):
    committed = json.loads(deployment.ADDRESSES_FILE.read_text())
    assert chain["entry"] == committed["31337"]
    written = json.loads((chain["folder"] / "addresses.json").read_text())
    assert written == {"31337": chain["entry"]}


def test_it_exports_the_committed_abis(chain):
    for name in deployment.CONTRACTS:
        exported = (chain["folder"] / "abi" / f"{name}.json").read_text()
        committed = (deployment.ABI_DIR / f"{name}.json").read_text()
        assert exported == committed, f"onchain/abi/{name}.json is stale: run make sync-abi"


def test_it_wires_the_contracts_and_grants_the_roles(chain):
    book = contract(chain, "LoanBook")
    pool = contract(chain, "LiquidityBackstopPool")
    registry = contract(chain, "ScoreRegistry")
    entry = chain["entry"]
    admin = DEPLOYER.address

    assert book.functions.stable().call() == entry["MockStable"]
    assert book.functions.pool().call() == entry["LiquidityBackstopPool"]
    assert book.functions.treasury().call() == deployment.DEV["treasury"].address
    assert pool.functions.asset().call() == entry["MockStable"]
    assert pool.functions.loanBook().call() == entry["LoanBook"]
    assert pool.functions.hasRole(role("LOANBOOK_ROLE"), entry["LoanBook"]).call()
    assert book.functions.hasRole(role("UNDERWRITER_ROLE"), UNDERWRITER.address).call()
    assert registry.functions.hasRole(role("SCORER_ROLE"), deployment.DEV["scorer"].address).call()
    for c in (book, pool, registry):
        assert c.functions.hasRole(b"\x00" * 32, admin).call()
        assert c.functions.hasRole(role("PAUSER_ROLE"), admin).call()
    assert not book.functions.hasRole(role("UNDERWRITER_ROLE"), admin).call()


def test_a_second_deploy_does_nothing(chain):
    w3 = chain["w3"]
    block = w3.eth.block_number
    again = deployment.deploy(
        chain["rpc_url"],
        addresses_file=chain["folder"] / "addresses.json",
        abi_dir=chain["folder"] / "abi",
    )
    assert again == chain["entry"]
    assert w3.eth.block_number == block


def test_a_loan_runs_from_listing_to_claim(chain):
    w3 = chain["w3"]
    stable = contract(chain, "MockStable")
    book = contract(chain, "LoanBook")
    for who in (ALICE, BOB, CAROL):
        send(w3, DEPLOYER, stable.functions.mint(who.address, 5_000 * USD))
        send(w3, who, stable.functions.approve(book.address, MAX_UINT))

    now = w3.eth.get_block("latest")["timestamp"]
    approval = LoanApproval(
        borrower=ALICE.address, principal=1_000 * USD, total_due=1_060 * USD, installments=6,
        interval=MONTH, funding_deadline=now + 7 * 86400, grade=2, nonce=777,
        expiry=now + 86400)
    signature = sign_loan_approval(approval, private_key=UNDERWRITER.key.to_0x_hex(),
                                   chain_id=31337, loan_book=book.address)
    as_tuple = approval.as_tuple()

    receipt = send(w3, ALICE, book.functions.openLoan(as_tuple, signature))
    (opened,) = book.events.LoanOpened().process_receipt(receipt)
    loan_id = opened["args"]["loanId"]
    assert opened["args"]["nonce"] == 777
    assert opened["args"]["borrower"] == ALICE.address

    send(w3, BOB, book.functions.fund(loan_id, 600 * USD))
    send(w3, CAROL, book.functions.fund(loan_id, 900 * USD))  # only 400 is taken
    assert stable.functions.balanceOf(CAROL.address).call() == 4_600 * USD
    assert stable.functions.balanceOf(book.address).call() == 1_000 * USD

    send(w3, ALICE, book.functions.drawdown(loan_id))
    assert stable.functions.balanceOf(ALICE.address).call() == 6_000 * USD
    start = book.functions.getLoan(loan_id).call()[7]
    assert book.functions.nextDueTime(loan_id).call() == start + MONTH

    # The schedule rule, computed in Python, agrees with the chain to the base unit.
    for k in range(7):
        assert book.functions.cumulativeDue(loan_id, k).call() == 1_060 * USD * k // 6
    installment = 1_060 * USD // 6  # 176_666_666
    send(w3, ALICE, book.functions.repay(loan_id, installment))
    interest = installment * 60 // 1_060  # 9_999_999
    fee = premium = interest * 1_000 // 10_000  # 999_999 each
    to_lenders = installment - fee - premium  # 174_666_668
    assert book.functions.feesAccrued().call() == fee
    assert book.functions.poolReceivable().call() == premium
    assert book.functions.distributed(loan_id).call() == to_lenders

    bob_before = stable.functions.balanceOf(BOB.address).call()
    send(w3, BOB, book.functions.claim(loan_id))
    assert stable.functions.balanceOf(BOB.address).call() - bob_before == to_lenders * 600 // 1_000
    assert book.functions.positionOf(loan_id, BOB.address).call() == [
        600 * USD,
        to_lenders * 600 // 1_000,
    ]
    assert book.functions.claimable(loan_id, CAROL.address).call() == to_lenders * 400 // 1_000

    send(w3, TREASURY, book.functions.claimFees())
    assert stable.functions.balanceOf(TREASURY.address).call() == fee


def test_devchain_stops_anvil():
    with DevChain.start() as dev:
        process = dev.process
        assert Web3(Web3.HTTPProvider(dev.rpc_url)).eth.chain_id == 31337
    assert process.poll() is not None


def test_abi_only_export_needs_no_chain(tmp_path: Path):
    written = deployment.export_abis(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.json" for n in deployment.CONTRACTS)
    abi = json.loads((tmp_path / "LoanBook.json").read_text())
    assert any(item.get("name") == "openLoan" for item in abi)
