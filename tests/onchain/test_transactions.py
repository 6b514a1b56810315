"""The driver against a real LoanBook on anvil: approvals, every builder, typed events."""

from __future__ import annotations

import random

import pytest
from eth_account import Account

from core.loans import amortization
from onchain.approvals import (
    LoanApproval,
    grade_code,
    recover_loan_approval_signer,
    sign_loan_approval,
)
from onchain.events import LogDecoder, fetch_events
from onchain.transactions import Builder
from tests.chain import dev_key

UNDERWRITER, BORROWER, LENDER_A, LENDER_B = dev_key(1), dev_key(5), dev_key(6), dev_key(7)
USD = 1_000_000
_nonces = iter(range(10_000, 10**9))


def approval_for(chain, *, principal=300 * USD, total_due=330 * USD, installments=3,
                 interval=30 * 86400, borrower=BORROWER) -> LoanApproval:
    now = chain.w3.eth.get_block("latest")["timestamp"]
    return LoanApproval(borrower=Account.from_key(borrower).address, principal=principal,
                        total_due=total_due, installments=installments, interval=interval,
                        funding_deadline=now + 7 * 86400, grade=grade_code("B"),
                        nonce=next(_nonces), expiry=now + 3600)


def open_loan(chain, builder, approval, *, borrower=BORROWER) -> int:
    signature = sign_loan_approval(approval, private_key=UNDERWRITER, chain_id=31337,
                                   loan_book=chain.deployment.loan_book)
    (receipt,) = chain.send(borrower, builder.open_loan(approval, signature))
    opened = [e for e in map(LogDecoder(chain.deployment).decode, receipt["logs"])
              if e and e.name == "LoanOpened"]
    return opened[0].args["loanId"]


@pytest.fixture(scope="module")
def builder(chain):
    for key in (LENDER_A, LENDER_B, BORROWER):
        chain.faucet(key, 10_000 * USD)
    return Builder(chain.deployment)


def test_our_eip712_hash_is_the_contracts(chain):
    approval = approval_for(chain)
    signature = sign_loan_approval(approval, private_key=UNDERWRITER, chain_id=31337,
                                   loan_book=chain.deployment.loan_book)
    assert recover_loan_approval_signer(approval, signature, chain_id=31337,
                                        loan_book=chain.deployment.loan_book) == (
        Account.from_key(UNDERWRITER).address)
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak

    from onchain.approvals import LOAN_APPROVAL_TYPES, _domain

    message = encode_typed_data(_domain(31337, chain.deployment.loan_book), LOAN_APPROVAL_TYPES,
                                approval.message())
    ours = keccak(b"\x19\x01" + message.header + message.body)
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    assert loan_book.functions.hashLoanApproval(approval.as_tuple()).call() == ours


def test_a_loan_goes_through_its_whole_life_with_the_builders(chain, builder):
    decoder = LogDecoder(chain.deployment)
    start = chain.w3.eth.block_number + 1
    loan_id = open_loan(chain, builder, approval_for(chain))
    lender_a = Account.from_key(LENDER_A).address
    chain.send(LENDER_A, builder.fund(loan_id, 100 * USD))
    chain.send(LENDER_B, builder.fund(loan_id, 200 * USD))
    chain.send(BORROWER, builder.drawdown(loan_id))
    chain.send(BORROWER, builder.repay(loan_id, 110 * USD))
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    claimable = loan_book.functions.claimable(loan_id, lender_a).call()
    assert claimable > 0
    chain.send(LENDER_A, builder.claim([loan_id]))
    events = fetch_events(chain.w3, decoder, from_block=start,
                          to_block=chain.w3.eth.block_number)
    names = [e.name for e in events]
    assert names[:1] == ["LoanOpened"]
    for expected in ("Funded", "FundingCompleted", "DrawnDown", "Repaid", "Claimed"):
        assert expected in names
    repaid = next(e for e in events if e.name == "Repaid")
    split = amortization.repayment_split(repaid_before=0, amount=110 * USD,
                                         principal=300 * USD, total_due=330 * USD,
                                         fee_bps=loan_book.functions.platformFeeBps().call(),
                                         premium_bps=loan_book.functions.premiumBps().call())
    assert (repaid.args["fee"], repaid.args["premium"]) == (split.fee, split.premium)
    claimed = next(e for e in events if e.name == "Claimed")
    assert (claimed.args["lender"], claimed.args["amount"]) == (lender_a, claimable)
    assert all(e.key == f"{e.tx_hash}:{e.log_index}" for e in events)


def test_the_python_schedule_and_the_loanbook_agree_on_every_cumulative_due(chain, builder):
    rng = random.Random(20261122)
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    for _ in range(12):
        principal = rng.randint(1, 5_000) * USD + rng.randint(0, USD - 1)
        installments = rng.choice([1, 2, 3, 6, 9, 12, 18, 24])
        total_due = amortization.annuity_total_due(
            principal=principal, apr_bps=rng.randint(0, 6_000), installments=installments,
            interval_days=30)
        loan_id = open_loan(chain, builder, approval_for(
            chain, principal=principal, total_due=total_due, installments=installments))
        for k in range(installments + 1):
            assert loan_book.functions.cumulativeDue(loan_id, k).call() == (
                amortization.cumulative_due(total_due=total_due, k=k, installments=installments))


def test_unknown_logs_are_skipped_not_fatal(chain):
    decoder = LogDecoder(chain.deployment)
    assert decoder.decode({"address": chain.deployment.loan_book, "topics": [b"\x00" * 32],
                           "data": b"", "blockNumber": 1, "blockHash": b"\x00" * 32,
                           "transactionHash": b"\x00" * 32, "logIndex": 0}) is None
    assert decoder.decode({"address": "0x" + "12" * 20, "topics": [], "data": b""}) is None
