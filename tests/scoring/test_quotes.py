"""The borrow quote: the limit, the terms and the estimated rate, computed once per /borrow."""

from __future__ import annotations

from core.loans.amortization import annuity_total_due
from core.scoring import policy
from core.scoring.profile import borrower_profile_set
from core.scoring.quotes import OFFERED_TERMS, BorrowQuote, borrow_quote, quote_schedule
from core.users.models import KycTier
from tests.factories import USD, borrower


def test_a_borrower_never_scored_is_quoted_the_highest_rate_offered(alice):
    pricing = policy.load_pricing()
    quote = borrow_quote(user=alice)
    assert quote.apr_bps == max(terms.apr_bps for grade, terms in pricing.grades.items()
                                if grade not in pricing.refuse_grades)
    assert quote.grade == "" and not quote.capped_by_grade
    assert quote.terms == OFFERED_TERMS and not quote.profile_declared


def test_the_quote_knows_whether_the_profile_was_declared(alice):
    borrower_profile_set(user=alice, income_band="", employment="")
    assert borrow_quote(user=alice).profile_declared


def test_the_limit_is_what_the_verification_level_leaves(db):
    basic = borrower(telegram_id=1201, username="gus", tier=KycTier.BASIC)
    quote = borrow_quote(user=basic)
    assert quote.max_principal == quote.kyc_available > 0


def test_a_quote_survives_the_draft_and_prices_its_schedule(alice):
    quote = borrow_quote(user=alice)
    again = BorrowQuote.from_draft(quote.as_draft())
    assert again == quote
    total, schedule = quote_schedule(quote=again, principal=300 * USD, installments=3)
    assert total == annuity_total_due(principal=300 * USD, apr_bps=quote.apr_bps,
                                      installments=3, interval_days=30)
    assert len(schedule) == 3 and sum(item.amount for item in schedule) == total
