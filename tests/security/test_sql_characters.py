"""SQL-significant characters in every filter and query parameter of the pages, in the search
and filters of every admin changelist and in the CSV exports: never a 500, never a row more
than the same request without them would show (LIKE's % and _ are literal)."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.utils.text import smart_split, unescape_string_literal

from core.loans import services as loans
from core.signing.models import SigningRequest
from tests.factories import USD, active_loan, listed_loan

pytestmark = pytest.mark.django_db
NASTY = ["'", '"', ";", "--", "%", "_", "\\", "\x00", "' OR '1'='1", "%' OR 1=1 --", "_%_",
         "\\%", "1; DROP TABLE users_telegramuser; --",
         "1' UNION SELECT password FROM auth_user --", "0x27", "１２", "-1", "9" * 40]
# For the many filter parameters: one of each kind of trouble.
SHORT = ["'", "%", "\x00", "' OR '1'='1", "9" * 40]
PAGE_PARAMS = {
    "/": [],
    "/loans/": ["grade", "term", "min", "max", "show", "page"],
    "/pool/": [],
    "/pool/position": ["address"],
    "/me/": [],
    "/me/statement.csv": [],
    "/me/app/": [],
    "/health": [],
    "/health/live": [],
}


@pytest.fixture
def market(alice, bob, chain_out_of_reach):
    open_loan = listed_loan(borrower=alice, principal=200 * USD, installments=3)
    running = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    application = loans.loan_request_create(borrower=alice, principal=100 * USD,
                                            installments=3, purpose="business")
    return {"open": open_loan, "running": running, "application": application}


def loan_links(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/loans/(\d+)/"', html)}


@pytest.mark.parametrize("path", list(PAGE_PARAMS))
def test_sql_characters_in_any_page_parameter_give_no_error_and_no_extra_rows(
        client, signed_in, bob, market, path):
    signed_in(bob)
    plain = client.get(path)
    assert plain.status_code in (200, 400, 503)
    tries = [(name, value) for name in PAGE_PARAMS[path] for value in NASTY] + [
        (name, value) for name in ("q", "id", "user_id", "order") for value in SHORT]
    for name, value in tries:
        response = client.get(path, {name: value})
        assert response.status_code in (200, 400, 503), (path, name, value)
        if path == "/loans/":
            shown = loan_links(response.content.decode())
            assert shown <= {market["open"].pk, market["running"].pk}, (name, value)
            assert market["application"].pk not in shown


def test_sql_characters_in_the_loan_lists_filters_show_no_loan_that_is_not_public(
        client, market):
    every = {"grade": "A' OR '1'='1", "term": "3; --", "min": "0 OR 1=1", "max": "%",
             "show": "all' --", "page": "1' OR '1'='1"}
    shown = loan_links(client.get("/loans/", every).content.decode())
    assert shown == loan_links(client.get("/loans/").content.decode())
    assert market["application"].pk not in shown


def test_sql_characters_in_the_language_switch_and_the_mini_app_sign_in_are_refused_cleanly(
        client, bob):
    for value in NASTY:
        response = client.post("/language/", {"language": value, "next": value})
        assert response.status_code in (200, 302)
        response = client.post("/me/app/auth", {"init_data": f"user={value}&hash={value}"},
                               content_type="application/json")
        assert response.status_code == 403
    assert "@bob" not in client.get("/me/").content.decode()


def changelists():
    return [(f"/admin/{model._meta.app_label}/{model._meta.model_name}/", model, model_admin)
            for model, model_admin in admin.site._registry.items()]


@pytest.fixture
def operator(client, market):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def _values(obj, path: str) -> list[str]:
    objs = [obj]
    for part in path.split("__"):
        objs = [getattr(o, part, None) for o in objs if o is not None]
        objs = [item for o in objs for item in (o.all() if hasattr(o, "all") else [o])]
    return ["" if o is None else str(o) for o in objs]


def literal_matches(model, model_admin, value: str) -> int:
    """The rows a search for `value` may show: those with a search field containing it as
    plain text (each word of it, split and unquoted as the admin does: a lone quote is an
    empty word, which every row contains)."""
    words = [unescape_string_literal(bit) if bit[0] in "\"'" and bit[0] == bit[-1] else bit
             for bit in smart_split(value)] or [value]
    lookups = {"=": lambda text, word: text.lower() == word.lower(),
               "^": lambda text, word: text.lower().startswith(word.lower())}
    fields = [(lookups.get(f[0], lambda text, word: word.lower() in text.lower()),
               f.lstrip("=^@")) for f in model_admin.search_fields]
    return sum(1 for obj in model.objects.all()
               if all(any(match(text, word) for match, path in fields
                          for text in _values(obj, path)) for word in words))


@pytest.mark.parametrize(("url", "model", "model_admin"), changelists(),
                         ids=[url for url, _m, _a in changelists()])
def test_sql_characters_in_every_admin_search_and_filter_give_no_error_and_no_extra_rows(
        operator, url, model, model_admin):
    for value in NASTY:
        response = operator.get(url, {"q": value})
        if "\x00" in value:  # PostgreSQL takes no NUL: the admin refuses the address
            assert response.status_code == 400, url
            continue
        assert response.status_code == 200, (url, value)
        if model_admin.search_fields:
            found = response.context["cl"].result_count
            assert found <= literal_matches(model, model_admin, value), (url, value, found)
    for value in SHORT:
        for name in ("o", "p", "state", "state__exact", "id__gt", "e", "all"):
            response = operator.get(url, {name: value})
            if "\x00" in value:  # PostgreSQL takes no NUL: the admin refuses the address
                assert response.status_code == 400, (url, name)
                assert response.content == b"Null characters are not allowed."
            else:
                assert response.status_code in (200, 302), (url, name, value)


EXPORTS = [("/admin/loans/loan/", "export_loans_csv"),
           ("/admin/loans/repayment/", "export_repayments_csv"),
           ("/admin/ledger/posting/", "export_ledger_csv")]


@pytest.mark.parametrize(("url", "action"), EXPORTS)
def test_a_csv_export_of_a_search_for_sql_characters_exports_nothing_more(operator, url,
                                                                         action):
    model, model_admin = next((model, model_admin) for u, model, model_admin in changelists()
                              if u == url)
    for value in NASTY:
        response = operator.post(f"{url}?{urlencode({'q': value})}",
                                 {"action": action, "select_across": "1", "index": "0",
                                  "_selected_action": ["1"]})
        if "\x00" in value:
            assert response.status_code == 400, url
            continue
        assert response.status_code in (200, 302), (url, value)
        if response.status_code == 200:
            rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
            assert len(rows) - 1 <= literal_matches(model, model_admin, value), (url, value)


@pytest.mark.parametrize("amount", ["1e999999", "1e9999999999", "Infinity", "-Infinity",
                                    "NaN", "sNaN", "1" * 5000, "1e30", "9" * 80, "-0", "1e-7",
                                    "0x10", "'; --", "\x00"])
def test_an_overflowing_or_absurd_pool_deposit_amount_is_refused_with_a_reason(
        client, signed_in, bob, chain_out_of_reach, amount):
    """Found here: "1e999999", "Infinity" and amounts past 64 bits answered 500."""
    signed_in(bob)
    response = client.post("/pool/deposit", {"amount": amount})
    assert response.status_code == 400
    said = response.content.decode()
    assert "Choose an amount above zero." in said or "That amount is too large." in said
    assert not SigningRequest.objects.exists()
