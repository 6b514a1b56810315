"""Action services refuse what the contracts would refuse, before anyone signs."""

from __future__ import annotations

import pytest

from core.common.errors import ServiceError
from core.signing import actions
from tests import factories

pytestmark = pytest.mark.django_db
LENDER_WALLET = "0x" + "ab" * 20


def test_a_ticket_below_the_loan_books_minimum_is_refused_unless_it_completes_the_loan(alice):
    listed = factories.listed_loan(borrower=alice)
    lender = factories.lender(telegram_id=3003, username="lia", wallet=LENDER_WALLET)
    with pytest.raises(ServiceError) as refused:
        actions.fund_request(user=lender, loan=listed, amount=5 * 10**6)
    assert refused.value.code == "below_min_ticket"
    request, _token = actions.fund_request(user=lender, loan=listed, amount=listed.left_to_fund)
    assert request.amount == listed.left_to_fund
