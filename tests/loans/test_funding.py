"""May this person fund this loan: one rule in core, asked by the bot, the web pages and
fund_request (where the signing request is built)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.loans import funding
from core.loans.funding import FundingRefused, funding_refusal, loan_open_for_funding
from core.signing import actions
from core.users import services as users
from core.users.models import TelegramUser
from tests.factories import USD, approved_loan, borrower, listed_loan


def test_a_lender_who_accepted_the_terms_may_fund_a_listed_loan(alice, bob):
    loan = listed_loan(borrower=alice)
    assert funding_refusal(lender=bob, loan=loan) is None
    assert loan_open_for_funding(loan=loan)


def test_a_borrower_who_is_not_a_lender_may_not_fund(alice, db):
    other = listed_loan(borrower=borrower(telegram_id=2001, username="dora"))
    assert funding_refusal(lender=alice, loan=other) == funding.NOT_LENDER


def test_a_lender_who_has_not_accepted_the_current_terms_may_not_fund(alice, bob):
    loan = listed_loan(borrower=alice)
    TelegramUser.objects.filter(pk=bob.pk).update(terms_version="2020-01")
    bob.refresh_from_db()
    assert funding_refusal(lender=bob, loan=loan) == funding.TERMS_NOT_ACCEPTED


def test_a_lender_may_not_fund_their_own_loan(alice):
    alice = users.user_set_roles(user=alice, borrower=True, lender=True)
    assert funding_refusal(lender=alice, loan=listed_loan(borrower=alice)) == funding.OWN_LOAN


def test_a_loan_not_listed_or_fully_funded_may_not_be_funded(alice, bob):
    approved = approved_loan(borrower=alice)
    assert funding_refusal(lender=bob, loan=approved) == funding.NOT_OPEN
    full = listed_loan(borrower=alice)
    full.funded_amount = full.principal
    assert not loan_open_for_funding(loan=full)
    assert funding_refusal(lender=bob, loan=full) == funding.NOT_OPEN


def test_a_loan_past_its_funding_deadline_may_not_be_funded(alice, bob):
    loan = listed_loan(borrower=alice)
    loan.funding_deadline = timezone.now() - timedelta(minutes=1)
    assert funding_refusal(lender=bob, loan=loan) == funding.DEADLINE_PASSED


def test_fund_request_refuses_a_lender_the_rule_refuses(alice, bob):
    loan = listed_loan(borrower=alice)
    bob = users.user_set_roles(user=bob, borrower=True, lender=False)
    with pytest.raises(FundingRefused) as refused:
        actions.fund_request(user=bob, loan=loan, amount=10 * USD)
    assert refused.value.reason == refused.value.code == funding.NOT_LENDER
    assert str(refused.value) == "Funding loans is for lenders."
    assert not bob.signing_requests.exists()


def test_a_frozen_lender_may_not_fund(alice, bob):
    loan = listed_loan(borrower=alice)
    bob = users.user_freeze(user=bob, reason="chargeback")
    with pytest.raises(actions.ActionRefused, match="frozen"):
        actions.fund_request(user=bob, loan=loan, amount=10 * USD)
