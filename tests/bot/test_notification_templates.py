"""Every message core can queue has a template, and each reads in all six languages.

Two ways, so neither can drift: an explicit example per template key (params shaped as core
sends them) rendered in every language; and a real run of the money path on anvil, the review
queue, reconciliation, reminders, a broadcast and failed or confirmed signing requests, whose
queued messages (keys and the params core really wrote) must all render in every language and
all be among the examples. A key core starts to queue without a template fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import translation

from bot.notifications import TEMPLATES, render
from core.chain.reconciliation import reconciliation_run
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.reminders import installment_reminders_queue
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.notifications.services import broadcast_enqueue
from core.scoring.applications import loan_application_score
from core.scoring.review import review_approve, review_reject, review_sla_alert
from core.signing import actions
from core.signing.models import SigningStatus
from core.signing.services import signing_request_report_txs, signing_requests_confirm_tx
from core.users.services import user_get_or_create_from_telegram
from onchain.transactions import Builder
from tests import factories
from tests.chain import dev_key, people_on_chain

USD = factories.USD
LANGUAGES = [code for code, _ in settings.LANGUAGES]
DUE = "2026-12-20T10:00:00+00:00"

# One realistic example per template key, with the params core sends.
EXAMPLES: dict[str, dict] = {
    # chain events (core/chain/events.py)
    "loan_listed": {"loan_id": 12, "amount": 300 * USD},
    "funding_confirmed": {"loan_id": 12, "amount": 100 * USD},
    "loan_funded": {"loan_id": 12, "amount": 300 * USD},
    "drawdown_confirmed": {"loan_id": 12, "amount": 300 * USD, "first_due_date": DUE,
                           "first_amount": 104_517_210},
    "repayment_received": {"loan_id": 12, "amount": 104_517_210, "outstanding": 209_034_420},
    "lender_repayment_received": {"loan_id": 12, "amount": 104_517_210},
    "refund_available": {"loan_id": 12, "amount": 50 * USD},
    "loan_expired": {"loan_id": 12},
    "loan_cancelled": {"loan_id": 12},
    "loan_defaulted": {"loan_id": 12, "outstanding": 313_551_630},
    "lender_loan_defaulted": {"loan_id": 12, "cover": 150 * USD},
    "claim_confirmed": {"loan_id": 12, "amount": 34_839_070},
    # signing requests settled away from the chat (core/signing/services.py)
    "signing_confirmed": {"request_id": 7, "kind": "pool_deposit", "step": "pool_deposit",
                          "loan_id": None, "amount": 250 * USD},
    "signing_failed": {"request_id": 8, "kind": "repay", "step": "repay", "loan_id": 12,
                       "amount": 104_517_210},
    "wallet_linked": {"address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                      "is_borrower": True, "is_lender": False},
    # admins
    "admin_reconciliation_mismatch": {
        "date": "2026-11-22", "run_id": 3, "block_number": 1234, "loans_checked": 40,
        "differences": 2, "loans_affected": 1,
        "examples": [{"loan_id": 12, "chain_loan_id": 5, "field": "repaid", "ledger": 0,
                      "chain": 104_517_210, "lender_id": None}]},
    "review_requested": {"loan_id": 12, "borrower_telegram_id": 1001, "grade": "C",
                         "score": 640, "pd_bps": 900, "principal": 1_000 * USD,
                         "review_reasons": ["review_large_amount"]},
    "review_sla_breached": {"loan_id": 12, "borrower_telegram_id": 1001, "waiting_hours": 30,
                            "sla_hours": 24, "principal": 1_000 * USD, "grade": "C"},
    "broadcast": {"broadcast_id": 1, "text": "Maintenance tonight from 22:00 UTC."},
    "keeper_action_failed": {"loan_id": 12, "action": "default",
                             "error": "execution reverted"},
    # scoring (core/scoring/applications.py, review.py)
    "offer_ready": {"loan_id": 12, "grade": "B", "score": 700, "pd_bps": 400, "apr_bps": 1800,
                    "principal": 300 * USD, "total_due": 313_551_630, "installments": 3,
                    "interval_days": 30, "reasons": ["reason_short_repayment_history"],
                    "offer_reasons": []},
    "application_in_review": {
        "loan_id": 12, "grade": "C", "score": 640, "pd_bps": 900, "apr_bps": 2400,
        "principal": 1_000 * USD, "total_due": 1_040_000_000, "installments": 3,
        "interval_days": 30, "reasons": [], "review_reasons": ["review_large_amount"],
        "sla_hours": 24},
    "application_refused": {"loan_id": 12, "grade": "E", "score": 420,
                            "reasons": ["refusal_score_too_low", "reason_late_payments"]},
    # identity verification (core/kyc/services.py)
    "kyc_approved": {"request_id": 4, "tier": 2, "limit": 1_000 * USD, "note": ""},
    "kyc_rejected": {"request_id": 4, "tier": 2, "reason": "unreadable",
                     "note": "Please retake it in daylight."},
    "kyc_review_requested": {"request_id": 4, "target_tier": 2},
    # reminders (core/loans/reminders.py)
    "installment_due_soon": {"loan_id": 12, "installment": 1, "due_date": DUE[:10],
                             "amount": 104_517_210, "days_left": 3},
    "installment_due_today": {"loan_id": 12, "installment": 1, "due_date": DUE[:10],
                              "amount": 104_517_210},
    "installment_overdue": {"loan_id": 12, "installment": 1, "due_date": DUE[:10],
                            "amount": 104_517_210, "days_late": 4},
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def rendered_text(key: str, params: dict, language: str) -> str:
    with translation.override(language):
        out = render(key, params, language)
    text = out.text
    if out.markup is not None:
        text += "\n" + "\n".join(button.text for row in out.markup.inline_keyboard
                                 for button in row)
    return text


def assert_reads_in_every_language(key: str, params: dict) -> None:
    english = rendered_text(key, params, "en")
    assert english.strip() and not PLACEHOLDER.search(english), (key, english)
    for language in LANGUAGES:
        text = rendered_text(key, params, language)
        assert text.strip() and not PLACEHOLDER.search(text), (key, language, text)
        if language != "en":
            assert text != english, f"{key} is not translated into {language}"


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_each_template_reads_in_all_six_languages(key):
    assert_reads_in_every_language(key, EXAMPLES[key])


def test_the_signing_outcome_reads_right_for_every_kind():
    from core.signing.models import SigningKind

    for kind in SigningKind.values:
        for key in ("signing_confirmed", "signing_failed"):
            assert_reads_in_every_language(key, {**EXAMPLES[key], "kind": kind, "step": kind})
    withdraw = {**EXAMPLES["signing_confirmed"], "kind": "pool_withdraw",
                "step": "pool_request_withdraw", "amount": None}
    assert "cooldown has started" in rendered_text("signing_confirmed", withdraw, "en")


def test_a_loan_funded_message_offers_the_drawdown_button():
    with translation.override("es"):
        out = render("loan_funded", EXAMPLES["loan_funded"], "es")
    assert out.markup.inline_keyboard[0][0].callback_data == "1|myloan|draw|12"


@pytest.fixture
def rewound_chain(chain):
    """The default below moves the chain's clock by months: put it back afterwards."""
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    yield chain
    chain.w3.provider.make_request("evm_revert", [snapshot])


KEYS = {"alice": dev_key(44), "bob": dev_key(45), "charlie": dev_key(46),
        "keeper": dev_key(47)}


def sign(chain, name, created):
    request = chain.sign(KEYS[name], created)
    chain.sync()
    request.refresh_from_db()
    return request


def chain_now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


@pytest.mark.django_db
def test_every_message_core_queues_on_the_money_path_has_a_template(rewound_chain, settings):
    chain = rewound_chain
    settings.ADMIN_TELEGRAM_IDS = [1999]
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    settings.RPC_URL = chain.rpc_url
    world = people_on_chain(chain, settings, KEYS, first_telegram_id=4701, suffix="t",
                            tokens=2_000 * USD)
    alice, bob, charlie = world["alice"], world["bob"], world["charlie"]
    admin, _ = user_get_or_create_from_telegram(telegram_id=1999, username="root")
    builder = Builder(chain.deployment)

    # Listed, funded by two lenders, drawn down, one installment repaid and collected.
    loan = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3)
    sign(chain, "alice", actions.open_loan_request(user=alice, loan=loan))
    loan.refresh_from_db()
    sign(chain, "bob", actions.fund_request(user=bob, loan=loan, amount=100 * USD))
    sign(chain, "charlie", actions.fund_request(user=charlie, loan=loan, amount=200 * USD))
    loan.refresh_from_db()
    sign(chain, "alice", actions.drawdown_request(user=alice, loan=loan))
    loan.refresh_from_db()
    first = loan.schedule.get(number=1)
    sign(chain, "alice", actions.repay_request(user=alice, loan=loan, amount=first.amount))
    sign(chain, "bob", actions.claim_request(user=bob))
    installment_reminders_queue(now=loan.schedule.get(number=2).due_at - timedelta(days=3))

    # A second loan is cancelled and a lender takes their money back; a third expires.
    cancelled = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    sign(chain, "alice", actions.open_loan_request(user=alice, loan=cancelled))
    cancelled.refresh_from_db()
    sign(chain, "bob", actions.fund_request(user=bob, loan=cancelled, amount=40 * USD))
    cancelled.refresh_from_db()
    sign(chain, "alice", actions.cancel_request(user=alice, loan=cancelled))
    cancelled.refresh_from_db()
    refund = sign(chain, "bob", actions.refund_request(user=bob, loan=cancelled))
    assert refund.status == SigningStatus.CONFIRMED
    expiring = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    sign(chain, "alice", actions.open_loan_request(user=alice, loan=expiring))
    expiring.refresh_from_db()
    sign(chain, "charlie", actions.fund_request(user=charlie, loan=expiring, amount=30 * USD))

    # A pool deposit confirmed, and a repayment whose transaction the network refused.
    sign(chain, "charlie", actions.pool_deposit_request(user=charlie, amount=50 * USD))
    _refused, token = actions.repay_request(user=alice, loan=loan, amount=USD)
    signing_request_report_txs(token=token, tx_hashes=["0x" + "ab" * 32])
    signing_requests_confirm_tx(tx_hash="0x" + "ab" * 32, success=False, reason="reverted")

    # Time passes: the expiring listing closes and the first loan defaults (pool cover).
    chain.mine_after(int(expiring.funding_deadline.timestamp()) - chain_now(chain) + 60)
    chain.send(KEYS["keeper"], builder.expire(expiring.chain_loan_id))
    grace = chain.deployment.contract("LoanBook", chain.w3).functions.gracePeriod().call()
    due = int(loan.schedule.get(number=2).due_at.timestamp())
    chain.mine_after(due + grace - chain_now(chain) + 60)
    loans.loan_refresh_lateness(loan=loan, now=datetime.fromtimestamp(chain_now(chain), tz=UTC))
    chain.send(KEYS["keeper"], builder.mark_default(loan.chain_loan_id))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.DEFAULTED

    # Reviews: requested, approved, rejected, and one left waiting past the SLA.
    dana = factories.borrower(telegram_id=4790, username="dana_t")
    in_review = []
    for _ in range(3):
        application = loans.loan_application_submit(borrower=dana, principal=150 * USD,
                                                    installments=1, purpose="business")
        loan_application_score(loan=application)
        in_review.append(Loan.objects.get(pk=application.pk))
    assert {item.state for item in in_review} == {LoanState.IN_REVIEW}
    review_approve(loan=in_review[0], reviewer=admin)
    review_reject(loan=in_review[1], reviewer=admin, reason="documents missing")
    review_sla_alert(now=datetime.now(tz=UTC) + timedelta(hours=settings.REVIEW_SLA_HOURS + 1))

    # The ledger disagrees with the chain: admins are alerted.
    Loan.objects.filter(pk=loan.pk).update(repaid_amount=loan.repaid_amount + 1)
    assert not reconciliation_run(w3=chain.w3, deployment=chain.deployment).ok
    broadcast_enqueue(author=admin, text="Maintenance tonight.")

    queued = list(OutboxMessage.objects.order_by("pk"))
    keys = {message.template_key for message in queued}
    missing = keys - set(TEMPLATES)
    assert not missing, f"core queues {sorted(missing)} but the bot has no template for them"
    assert keys <= set(EXAMPLES), f"add examples for {sorted(keys - set(EXAMPLES))}"
    expected = {"loan_listed", "funding_confirmed", "loan_funded", "drawdown_confirmed",
                "repayment_received", "lender_repayment_received", "claim_confirmed",
                "loan_cancelled", "refund_available", "loan_expired", "loan_defaulted",
                "lender_loan_defaulted", "signing_confirmed", "signing_failed",
                "review_requested", "application_in_review", "offer_ready",
                "application_refused", "review_sla_breached", "admin_reconciliation_mismatch",
                "broadcast", "installment_due_soon"}
    assert expected <= keys, f"not queued: {sorted(expected - keys)}"
    for message in queued:  # the params core really wrote
        assert_reads_in_every_language(message.template_key, message.params)
    kinds = {m.params["kind"] for m in queued if m.template_key == "signing_confirmed"}
    assert kinds == {"refund", "pool_deposit"}  # other kinds have their own event message
