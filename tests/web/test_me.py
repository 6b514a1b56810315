"""Personal pages: one-time login links, Telegram Mini App sign-in, loans, portfolio, statement."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import time
from urllib.parse import urlencode, urlsplit

import pytest

from core.ledger.models import Posting
from core.users import services as users
from core.web import services
from tests.factories import USD, active_loan

pytestmark = pytest.mark.django_db
BOT_TOKEN = "123456:TEST-token"


def signed_init_data(fields: dict, bot_token: str = BOT_TOKEN) -> str:
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(),
                                                 hashlib.sha256).hexdigest()})


def mini_app_fields(telegram_id: int, *, age_s: int = 0) -> dict:
    return {"auth_date": str(int(time.time()) - age_s), "query_id": "AAE",
            "user": json.dumps({"id": telegram_id, "first_name": "Bob"})}


def test_a_login_link_signs_in_once(client, bob):
    path = urlsplit(services.login_link_create(user=bob)).path
    first = client.get(path)
    assert first.status_code == 302 and first["Location"] == "/me/"
    assert "@bob" in client.get("/me/").content.decode()
    client.post("/me/logout")
    again = client.get(path)
    assert again.status_code == 403
    assert "already used" in again.content.decode()
    assert "@bob" not in client.get("/me/").content.decode()


def test_an_expired_or_made_up_login_link_is_refused(clock, client, bob):
    path = urlsplit(services.login_link_create(user=bob)).path
    clock.shift(services.LOGIN_LINK_TTL)
    assert client.get(path).status_code == 403
    assert client.get("/me/login/not-a-token/").status_code == 403


def test_a_frozen_person_gets_no_link_and_loses_the_session(client, bob):
    path = urlsplit(services.login_link_create(user=bob)).path
    client.get(path)
    users.user_freeze(user=bob, reason="investigation")
    assert "@bob" not in client.get("/me/").content.decode()
    with pytest.raises(services.LoginRefused):
        services.login_link_create(user=bob)


def test_signing_in_switches_the_pages_to_the_persons_language(client, bob):
    users.user_set_language(user=bob, language="fa")
    client.get(urlsplit(services.login_link_create(user=bob)).path)
    assert 'dir="rtl"' in client.get("/me/").content.decode()


def test_me_without_a_session_explains_how_to_sign_in(client, settings):
    settings.TELEGRAM_BOT_USERNAME = "LendgramTestBot"
    html = client.get("/me/").content.decode()
    assert "Send /me to the bot" in html
    assert 'href="https://t.me/LendgramTestBot"' in html
    assert client.get("/me/statement.csv").status_code == 302


def test_me_shows_my_loans_my_portfolio_and_my_statement(client, signed_in, alice, bob,
                                                         charlie):
    loan = active_loan(borrower=alice, lenders=[(bob, 200 * USD), (charlie, 100 * USD)])
    html = signed_in(bob).get("/me/").content.decode()
    assert f'href="/loans/{loan.pk}/"' in html
    assert "200.00" in html
    assert "You have no loans." in html
    client.post("/me/logout")
    html = signed_in(alice).get("/me/").content.decode()
    assert f"#{loan.pk}" in html and "active" in html
    assert "You have not funded any loan yet." in html


def test_the_statement_downloads_as_csv_with_every_posting(signed_in, alice, bob):
    active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    response = signed_in(bob).get("/me/statement.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == Posting.objects.filter(account__user=bob).count() > 0
    assert sum(int(row["amount_base_units"]) for row in rows) == sum(
        Posting.objects.filter(account__user=bob).values_list("amount", flat=True))
    assert {row["amount"] for row in rows} >= {"-300.000000"}


def test_a_mini_app_signs_in_with_init_data_signed_by_the_bot_token(clock, client, bob, settings):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    assert client.get("/me/app/").status_code == 200
    response = client.post("/me/app/auth", {"init_data": signed_init_data(
        mini_app_fields(bob.telegram_id))}, content_type="application/json")
    assert response.json() == {"ok": True, "next": "/me/"}
    assert "@bob" in client.get("/me/").content.decode()


@pytest.mark.parametrize("forgery", ["other_token", "changed_user", "stale", "no_hash"])
def test_a_mini_app_refuses_forged_or_stale_init_data(clock, client, bob, charlie, settings,
                                                      forgery):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    fields = mini_app_fields(bob.telegram_id, age_s=7200 if forgery == "stale" else 0)
    data = signed_init_data(fields, bot_token="999:other" if forgery == "other_token"
                            else BOT_TOKEN)
    if forgery == "changed_user":
        data = data.replace(str(bob.telegram_id), str(charlie.telegram_id))
    if forgery == "no_hash":
        data = urlencode(fields)
    response = client.post("/me/app/auth", {"init_data": data},
                           content_type="application/json")
    assert response.status_code == 403 and response.json()["ok"] is False
    assert "@bob" not in client.get("/me/").content.decode()
