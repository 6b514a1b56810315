"""The public pages: dashboard, loan listing with filters and pages, loan detail."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from core.loans import services as loans
from tests.factories import USD, active_loan, approved_loan, listed_loan

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_platform_figures_and_no_personal_data(client, alice, bob):
    active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    page = client.get("/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "300.00" in re.search(r'id="volume-funded">([^<]+)<', html)[1]
    assert re.search(r'id="lenders">([^<]+)<', html)[1] == "1"
    assert re.search(r'id="borrowers">([^<]+)<', html)[1] == "1"
    assert html.count("<svg") == 2  # volume over time, loans by state
    assert "alice" not in html and "bob" not in html and alice.wallet_address not in html


def test_the_dashboard_says_when_the_pool_cannot_be_read(client):
    html = client.get("/").content.decode()
    assert 'id="pool-unavailable"' in html
    assert "No loan has been funded yet." in html


def test_the_dashboard_speaks_persian_right_to_left_with_persian_digits(client, alice, bob):
    active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    client.cookies["django_language"] = "fa"
    html = client.get("/").content.decode()
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert re.search(r'id="lenders">([^<]+)<', html)[1] == "۱"


def test_the_loan_list_shows_open_loans_and_filters_them(client, alice):
    small = listed_loan(borrower=alice, principal=100 * USD, installments=3, grade="A")
    large = listed_loan(borrower=alice, principal=400 * USD, installments=6, grade="C")
    approved_loan(borrower=alice, principal=50 * USD)  # not on chain: not public

    def shown(query: str) -> set[int]:
        html = client.get(f"/loans/{query}").content.decode()
        return {int(n) for n in re.findall(r'href="/loans/(\d+)/"', html)}

    assert shown("") == {small.pk, large.pk}
    assert shown("?grade=A") == {small.pk}
    assert shown("?term=6") == {large.pk}
    assert shown("?min=200") == {large.pk}
    assert shown("?max=200") == {small.pk}
    assert shown("?grade=Z&term=x&min=-4") == {small.pk, large.pk}  # malformed: ignored


def test_the_loan_list_pages_keep_the_filters(client, alice):
    from core.web import selectors

    for _ in range(selectors.PAGE_SIZE + 1):
        listed_loan(borrower=alice, principal=10 * USD, grade="B")
    first = client.get("/loans/?grade=B").content.decode()
    assert len(re.findall(r'href="/loans/\d+/"', first)) == selectors.PAGE_SIZE
    assert 'href="?grade=B&amp;page=2"' in first
    second = client.get("/loans/?grade=B&page=2").content.decode()
    assert len(re.findall(r'href="/loans/\d+/"', second)) == 1
    assert "Page 2 of 2" in second


def test_the_loan_list_shows_all_loans_on_request(client, alice, bob):
    running = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    assert f'href="/loans/{running.pk}/"' not in client.get("/loans/").content.decode()
    assert f'href="/loans/{running.pk}/"' in client.get("/loans/?show=all").content.decode()


def test_a_loan_page_has_the_card_facts_a_telegram_link_and_its_qr_code(client, alice, bob,
                                                                         settings):
    settings.TELEGRAM_BOT_USERNAME = "LendgramTestBot"
    loan = listed_loan(borrower=alice, principal=300 * USD, installments=3, apr_bps=1800)
    loans.loan_record_funding(loan=loan, lender=bob, amount=100 * USD, ref="f1")
    html = client.get(f"/loans/{loan.pk}/").content.decode()
    link = f"https://t.me/LendgramTestBot?start=loan_{loan.pk}"
    assert f'href="{link}"' in html
    assert "18%" in re.search(r'id="apr">([^<]+)<', html)[1]
    assert "3 months" in html and "Business" in html
    assert "Funded 100.00" in html and "(33%)" in html
    qr = re.search(r'src="data:image/png;base64,([^"]+)"', html)[1]
    assert Image.open(io.BytesIO(base64.b64decode(qr))).format == "PNG"
    assert "alice" not in html


def test_a_loan_that_is_not_open_has_no_fund_link(client, alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    html = client.get(f"/loans/{loan.pk}/").content.decode()
    assert "t.me/" not in html and "active" in html


def test_an_application_that_was_never_listed_has_no_public_page(client, alice):
    loan = approved_loan(borrower=alice)
    assert client.get(f"/loans/{loan.pk}/").status_code == 404
    assert client.get("/loans/999999/").status_code == 404
