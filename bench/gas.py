"""Gas of the LoanBook's hot paths, measured from real transactions on a fresh anvil.

    .venv/bin/python bench/gas.py

Deploys the contracts, runs one loan (open, fund twice by lender A, fill by lender B, drawdown,
one instalment repaid, A claims) and prints each receipt's gasUsed (21k base included), the
goals, and finally one line of JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from onchain.approvals import LoanApproval, sign_loan_approval
from onchain.deploy import DEV, artifact, deploy, ensure_built
from onchain.devchain import DevChain

GOALS = {
    "open_loan": 160_000,
    "fund_first": 110_000,
    "fund_repeat": 70_000,
    "repay": 80_000,
    "claim": 60_000,
}
MAX_UINT = 2**256 - 1
USD = 10**6

# anvil dev accounts 5-7 (public keys, dev only): borrower, lender A, lender B.
BORROWER = Account.from_key("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba")
LENDER_A = Account.from_key("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e")
LENDER_B = Account.from_key("0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356")


def send(w3: Web3, account: Any, call: Any) -> Any:
    tx = call.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            "gas": 1_000_000,
        }
    )
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction reverted: {call.fn_name}")
    return receipt


def measure(rpc_url: str, workdir: Path) -> dict[str, int]:
    addresses = deploy(rpc_url, addresses_file=workdir / "addresses.json", abi_dir=workdir / "abi")
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    stable = w3.eth.contract(address=addresses["MockStable"], abi=artifact("MockStable")["abi"])
    book = w3.eth.contract(address=addresses["LoanBook"], abi=artifact("LoanBook")["abi"])
    deployer = Account.from_key(DEV["deployer"].private_key)
    underwriter = Account.from_key(DEV["underwriter"].private_key)

    for who in (BORROWER, LENDER_A, LENDER_B):
        send(w3, deployer, stable.functions.mint(who.address, 10_000 * USD))
        send(w3, who, stable.functions.approve(book.address, MAX_UINT))

    now = w3.eth.get_block("latest")["timestamp"]
    approval = LoanApproval(
        borrower=BORROWER.address, principal=1_000 * USD, total_due=1_060 * USD, installments=6,
        interval=30 * 86400, funding_deadline=now + 7 * 86400, grade=2, nonce=1,
        expiry=now + 86400)
    signature = sign_loan_approval(approval, private_key=underwriter.key.to_0x_hex(),
                                   chain_id=w3.eth.chain_id, loan_book=book.address)
    as_tuple = approval.as_tuple()

    gas = {}
    gas["open_loan"] = send(w3, BORROWER, book.functions.openLoan(as_tuple, signature))["gasUsed"]
    loan_id = book.functions.loanCount().call()
    gas["fund_first"] = send(w3, LENDER_A, book.functions.fund(loan_id, 300 * USD))["gasUsed"]
    gas["fund_repeat"] = send(w3, LENDER_A, book.functions.fund(loan_id, 200 * USD))["gasUsed"]
    send(w3, LENDER_B, book.functions.fund(loan_id, 500 * USD))
    send(w3, BORROWER, book.functions.drawdown(loan_id))
    installment = book.functions.cumulativeDue(loan_id, 1).call()
    gas["repay"] = send(w3, BORROWER, book.functions.repay(loan_id, installment))["gasUsed"]
    gas["claim"] = send(w3, LENDER_A, book.functions.claim(loan_id))["gasUsed"]
    return gas


def main() -> int:
    ensure_built()
    with DevChain.start() as chain, tempfile.TemporaryDirectory() as tmp:
        gas = measure(chain.rpc_url, Path(tmp))
    all_met = True
    for name, used in gas.items():
        met = used <= GOALS[name]
        all_met &= met
        verdict = "met" if met else "MISSED"
        print(f"{name:12} {used:>8,} gas   goal <= {GOALS[name]:>8,}   {verdict}")
    print(f"all goals met: {all_met}")
    print(json.dumps(gas))
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
