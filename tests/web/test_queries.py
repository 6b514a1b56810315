"""Every page asks the database the same number of times with 10 loans as with 1,000."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.loans.bulk import make_loans

pytestmark = pytest.mark.django_db

# Page -> queries. Personal pages: session, person, then one query per section.
PAGES = {
    "dashboard": ("/", None, 5),
    "loans": ("/loans/", None, 2),
    "loans filtered": ("/loans/?show=all&grade=B&term=6&min=100&max=400&page=2", None, 2),
    "loan": ("/loans/{loan}/", None, 1),
    "pool": ("/pool/", None, 0),
    "me as borrower": ("/me/", "alice", 5),
    "me as lender": ("/me/", "bob", 5),
    "statement csv": ("/me/statement.csv", "bob", 3),
    # Django admin: session, operator, the loan, then transitions, chain logs, ledger entries
    # messages and operators' actions (bulk loans have no ledger entries, so no postings
    # query follows).
    "admin timeline": ("/admin/loans/loan/{loan}/timeline/", "operator", 8),
}


@pytest.fixture
def platform(alice, bob, charlie, request):
    return make_loans(n=request.param, borrower=alice, lenders=[bob, charlie])


@pytest.mark.parametrize("platform", [10, 1000], indirect=True, ids=["10 loans", "1000 loans"])
@pytest.mark.parametrize("page", list(PAGES))
def test_the_page_asks_a_fixed_number_of_queries(page, platform, client, signed_in, alice, bob,
                                                  django_assert_num_queries):
    path, person, expected = PAGES[page]
    if person == "operator":
        client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    elif person:
        signed_in({"alice": alice, "bob": bob}[person])
    path = path.format(loan=platform[2].pk)
    with django_assert_num_queries(expected):
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
