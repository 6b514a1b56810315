"""The indexer applies a whole batch of logs at once: the result is the same, row for row, as
applying the same logs one at a time, a log that cannot apply is left out alone, and the
number of queries does not grow with the number of events."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from eth_account import Account

from core.chain import chain_apply, chain_sync
from core.chain.models import ChainLog
from core.ledger.models import JournalEntry
from core.ledger.selectors import trial_balance
from core.loans.models import FundingPosition, Installment, Loan, LoanTransition, Repayment
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.signing import actions
from core.signing.models import SigningRequest
from onchain.transactions import Builder
from tests import factories
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(41), "bob": dev_key(42), "charlie": dev_key(43), "dave": dev_key(44)}


def outcome() -> dict:
    """Everything applying logs writes, without row ids and creation times."""
    entries = JournalEntry.objects.order_by("key").prefetch_related("postings__account")
    return {
        "ledger": [(e.key, e.description, e.meta, e.occurred_at, e.loan_id,
                    sorted((p.account.code, p.amount) for p in e.postings.all()))
                   for e in entries],
        "outbox": list(OutboxMessage.objects.order_by("dedupe_key").values_list(
            "dedupe_key", "template_key", "params", "recipient_id", "chat_id")),
        "transitions": list(LoanTransition.objects.order_by("loan_id", "pk").values_list(
            "loan_id", "from_state", "to_state", "actor_label", "reason", "ref")),
        "loans": list(Loan.objects.order_by("pk").values(
            "state", "chain_loan_id", "funding_deadline", "funded_amount", "repaid_amount",
            "distributed_to_lenders", "drawn_down_at")),
        "positions": sorted(FundingPosition.objects.values_list(
            "loan_id", "lender_id", "amount", "claimed", "refunded")),
        "schedule": sorted(Installment.objects.values_list(
            "loan_id", "number", "due_at", "amount", "paid_at")),
        "repayments": sorted(Repayment.objects.values_list(
            "ref", "amount", "interest", "principal", "fee", "premium", "to_lenders", "paid_at")),
        "logs": [(name, problem, applied_at is not None) for name, problem, applied_at in
                 ChainLog.objects.order_by("block_number", "log_index").values_list(
                     "name", "problem", "applied_at")],
        "requests": sorted(SigningRequest.objects.values_list("pk", "status")),
    }


def test_a_batch_applies_exactly_as_one_log_at_a_time(chain, settings, monkeypatch):
    world = people_on_chain(chain, settings, KEYS, first_telegram_id=4701, suffix="b",
                            tokens=1_000 * USD)
    alice = world["alice"]
    builder = Builder(chain.deployment)
    book = chain.deployment.contract("LoanBook", chain.w3)
    first = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3)
    second = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    # Everything happens on chain before the indexer looks: one batch sees it all.
    for loan in (first, second):
        chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    first_id, second_id = book.functions.loanCount().call() - 1, book.functions.loanCount().call()
    chain.send(KEYS["bob"], builder.fund(first_id, 100 * USD))
    chain.send(KEYS["dave"], builder.fund(second_id, 40 * USD))  # a wallet nobody linked
    chain.send(KEYS["charlie"], builder.fund(first_id, 200 * USD))
    chain.send(KEYS["bob"], builder.fund(second_id, 60 * USD))
    chain.send(KEYS["alice"], builder.drawdown(first_id))
    for amount in (110 * USD, 50 * USD):
        chain.send(KEYS["alice"], builder.repay(first_id, amount))
    for name in ("bob", "charlie"):
        chain.send(KEYS[name], builder.claim([first_id]))

    with transaction.atomic():  # the batched run, then put the database back as it was
        with CaptureQueriesContext(connection) as queries:
            result = chain.sync()
        batched = outcome()
        transaction.set_rollback(True)
    assert not Loan.objects.filter(chain_loan_id__isnull=False).exists()

    real_apply = chain_apply.chain_logs_apply
    monkeypatch.setattr(chain_sync, "chain_logs_apply", lambda *, entries: sum(
        real_apply(entries=[entry]) for entry in entries))
    chain.sync()
    one_by_one = outcome()

    assert batched == one_by_one
    assert result.logs >= 12 and result.applied == result.logs - 1
    assert len(queries) < 60  # one at a time took about 30 per log
    problems = [(name, problem) for name, problem, _ in batched["logs"] if problem]
    assert problems == [("Funded", f"the lender wallet {Account.from_key(KEYS['dave']).address}"
                                   " is not linked to any account")]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.repaid_amount) == (LoanState.ACTIVE, 160 * USD)
    assert (second.state, second.funded_amount) == (LoanState.FUNDING, 60 * USD)
    assert {row[1] for row in batched["outbox"]} >= {
        "loan_listed", "funding_confirmed", "loan_funded", "drawdown_confirmed",
        "repayment_received", "lender_repayment_received", "claim_confirmed"}
    for name in ("bob", "charlie"):
        position = FundingPosition.objects.get(loan=first, lender=world[name])
        assert [position.amount, position.claimed] == book.functions.positionOf(
            first_id, Account.from_key(KEYS[name]).address).call()
    assert trial_balance() == 0
