"""Operators in the Django admin: review decisions, freezing, rescoring, signing links resent,
each recorded with who, when and why; a loan's timeline, the reconciliation report and CSV
exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User

from bot.notifications import render
from config.celery import app as celery_app
from core.audit.models import OperatorAction
from core.chain.models import ReconciliationRun
from core.ledger.models import Posting
from core.loans import services as loans
from core.loans.models import Loan, Repayment
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.scoring import applications as scoring
from core.scoring.scores import scores_cache_invalidate
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from core.users import services as users
from core.users.models import TelegramUser
from tests.factories import USD, active_loan, listed_loan
from tests.loans.test_stats import repay

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    """A Django staff user whose username is also an admin's Telegram username."""
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    admin, _ = users.user_get_or_create_from_telegram(telegram_id=9001, username="root")
    admin.is_admin = True
    admin.save(update_fields=["is_admin"])
    client.force_login(user)
    return client


@pytest.fixture
def in_review(alice, settings):
    scores_cache_invalidate()
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = loans.loan_request_create(borrower=alice, principal=150 * USD, installments=3,
                                     purpose="business")
    loans.loan_submit(loan=loan, actor=alice)
    scoring.loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.IN_REVIEW
    return loan


def act(client, url: str, action: str, pks, **extra):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks],
                             **extra})


LOANS = "/admin/loans/loan/"


def test_an_operator_approves_an_application_in_review(operator, in_review):
    response = act(operator, LOANS, "approve_in_review", [in_review.pk])
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.state == LoanState.APPROVED
    assert in_review.transitions.last().actor.username == "root"
    assert OutboxMessage.objects.filter(template_key="offer_ready").exists()
    action = OperatorAction.objects.get()
    assert (action.kind, action.operator, action.loan_id, action.subject_telegram_id,
            action.admin_telegram_id) == ("approve", "staff:root", in_review.pk, 1001, 9001)
    assert action.staff_user.username == "root"


def test_rejecting_asks_for_a_reason_first(operator, in_review):
    page = act(operator, LOANS, "reject_in_review", [in_review.pk])
    assert page.status_code == 200 and b'name="reason"' in page.content
    in_review.refresh_from_db()
    assert in_review.state == LoanState.IN_REVIEW
    assert not OperatorAction.objects.exists()
    act(operator, LOANS, "reject_in_review", [in_review.pk], apply="Reject",
        reason="income not plausible")
    in_review.refresh_from_db()
    assert in_review.state == LoanState.REJECTED
    assert in_review.transitions.last().reason == "income not plausible"
    assert OperatorAction.objects.values_list("kind", "operator", "reason").get() == (
        "reject", "staff:root", "income not plausible")


def test_an_operator_without_an_admin_telegram_account_cannot_decide(client, in_review):
    client.force_login(User.objects.create_superuser("stranger", "s@example.com", "pw"))
    act(client, LOANS, "approve_in_review", [in_review.pk])
    in_review.refresh_from_db()
    assert in_review.state == LoanState.IN_REVIEW
    assert not OperatorAction.objects.exists()


@pytest.fixture
def eager_tasks():
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def test_rescoring_queues_only_submitted_applications(operator, alice, in_review, eager_tasks):
    stuck = loans.loan_submit(loan=loans.loan_request_create(
        borrower=alice, principal=50 * USD, installments=3, purpose="business"), actor=alice)
    response = act(operator, LOANS, "rescore", [stuck.pk, in_review.pk])
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.state != LoanState.SUBMITTED and stuck.scores.count() == 1
    assert in_review.scores.count() == 1


def test_an_operator_freezes_with_a_reason_and_unfreezes(operator, bob):
    url = "/admin/users/telegramuser/"
    assert act(operator, url, "freeze", [bob.pk]).status_code == 200
    act(operator, url, "freeze", [bob.pk], apply="Freeze", reason="chargeback")
    bob.refresh_from_db()
    assert bob.is_frozen and bob.frozen_reason == "chargeback"
    act(operator, url, "unfreeze", [bob.pk])
    bob.refresh_from_db()
    assert not bob.is_frozen
    assert list(OperatorAction.objects.values_list("kind", "operator", "subject_telegram_id",
                                                   "reason")) == [
        ("freeze", "staff:root", bob.telegram_id, "chargeback"),
        ("unfreeze", "staff:root", bob.telegram_id, "")]


def test_resending_a_signing_link_sends_a_fresh_one_and_retires_the_old(operator, alice, bob):
    loan = listed_loan(borrower=alice, principal=100 * USD)
    old, _token = actions.fund_request(user=bob, loan=loan, amount=40 * USD)
    act(operator, "/admin/wallets/signingrequest/", "resend_link", [old.pk])
    old.refresh_from_db()
    assert old.status == SigningStatus.EXPIRED
    new = SigningRequest.objects.exclude(pk=old.pk).get()
    assert (new.kind, new.loan_id, new.amount, new.status) == ("fund", loan.pk, 40 * USD,
                                                               SigningStatus.PENDING)
    message = OutboxMessage.objects.get(template_key="signing_link_resent")
    assert message.recipient == bob and message.params["loan_id"] == loan.pk
    rendered = render(message.template_key, message.params, "en")
    assert "Fund loan" in rendered.text
    urls = [b.url for row in rendered.markup.inline_keyboard for b in row]
    assert message.params["page"] in urls
    assert OperatorAction.objects.values_list("kind", "operator", "loan_id", "target").get() == (
        "resend", "staff:root", loan.pk, f"signing request #{old.pk} (fund)")


def test_a_link_for_an_action_no_longer_allowed_is_not_resent(operator, alice, bob):
    loan = listed_loan(borrower=alice, principal=100 * USD)
    old, _token = actions.fund_request(user=bob, loan=loan, amount=40 * USD)
    loans.loan_record_funding(loan=loan, lender=TelegramUser.objects.get(pk=bob.pk),
                              amount=100 * USD, ref="full")
    act(operator, "/admin/wallets/signingrequest/", "resend_link", [old.pk])
    assert SigningRequest.objects.count() == 1
    assert not OutboxMessage.objects.filter(template_key="signing_link_resent").exists()
    assert not OperatorAction.objects.exists()


def test_a_loans_timeline_shows_transitions_ledger_postings_and_messages(operator, alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    repay(loan, loan.total_due // 3, ref="r1")
    OutboxMessage.objects.create(recipient=alice, chat_id=alice.telegram_id,
                                 template_key="repayment_received", dedupe_key="m1",
                                 params={"loan_id": loan.pk}, next_attempt_at=loan.created_at)
    html = operator.get(f"{LOANS}{loan.pk}/timeline/").content.decode()
    assert "listed → funding" in html or "listed → funded" in html
    assert f"Loan #{loan.pk} repayment" in html
    assert "repayment_received" in html
    assert html.count('class="ledger"') == loan.journal_entries.count()
    change_page = operator.get(f"{LOANS}{loan.pk}/change/").content.decode()
    assert f"{LOANS}{loan.pk}/timeline/" in change_page


def test_a_loans_timeline_shows_who_decided_it_when_and_why(operator, in_review, clock):
    act(operator, LOANS, "reject_in_review", [in_review.pk], apply="Reject",
        reason="income <b>not</b> plausible")
    html = operator.get(f"{LOANS}{in_review.pk}/timeline/").content.decode()
    row = next(line for line in html.splitlines() if 'class="operator"' in line)
    assert "2026-03-10 12:00:00" in row
    assert "reject an application by staff:root" in row
    assert f"loan #{in_review.pk}: income &lt;b&gt;not&lt;/b&gt; plausible" in row


def test_the_operator_trail_cannot_be_edited_in_the_admin(operator, in_review):
    act(operator, LOANS, "approve_in_review", [in_review.pk])
    action = OperatorAction.objects.get()
    url = f"/admin/audit/operatoraction/{action.pk}/"
    assert operator.get("/admin/audit/operatoraction/").status_code == 200
    assert operator.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert operator.post(f"{url}change/", {"reason": "nothing happened"}).status_code == 403
    assert OperatorAction.objects.get().reason == action.reason


def test_the_reconciliation_report_lists_the_differences(operator):
    run = ReconciliationRun.objects.create(
        started_at="2026-01-01T00:00:00Z", loans_checked=3, differences_count=1, ok=False,
        differences=[{"loan_id": 7, "chain_loan_id": 70, "field": "repaid", "ledger": 10,
                      "chain": 12, "lender_id": None}])
    listing = operator.get("/admin/chain/reconciliationrun/").content.decode()
    assert f"/admin/chain/reconciliationrun/{run.pk}/report/" in listing
    assert 'id="run-reconciliation"' in listing
    report = operator.get(f"/admin/chain/reconciliationrun/{run.pk}/report/").content.decode()
    assert "1 differences" in report and "<td>repaid</td>" in report


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_loans_repayments_and_ledger_export_as_csv(operator, alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    repay(loan, loan.total_due // 3, ref="r1")
    loan_rows = rows_of(act(operator, LOANS, "export_loans_csv", [loan.pk]))
    assert [int(r["principal"]) for r in loan_rows] == [300 * USD]
    repayments = rows_of(act(operator, "/admin/loans/repayment/", "export_repayments_csv",
                             Repayment.objects.values_list("pk", flat=True)))
    assert [int(r["amount"]) for r in repayments] == [loan.total_due // 3]
    postings = rows_of(act(operator, "/admin/ledger/posting/", "export_ledger_csv",
                           Posting.objects.values_list("pk", flat=True)))
    assert len(postings) == Posting.objects.count()
    assert sum(int(r["amount"]) for r in postings) == 0  # the books balance
    assert Loan.objects.count() == 1
