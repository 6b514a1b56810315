"""Insecure direct object references: every route of the URL map that takes an id or a token,
walked from the resolver (a new one fails test_every_route_with_an_id_or_a_token_is_attacked
until it is added here), asked for with another person's id or token, a made-up one and an
out-of-range one. Personal pages know the person from the session, never from the address:
another person's id in any query parameter changes nothing."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from core.ledger.models import Posting
from core.loans import services as loans
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from core.web.models import LoginToken
from core.web.services import login_link_create
from tests.factories import USD, active_loan

pytestmark = pytest.mark.django_db
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def routes(resolver=None, prefix: str = "", namespace: str = ""):
    """(route, name) of every pattern, with its includes' prefixes."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, route, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield route, f"{namespace}:{pattern.name}" if namespace else pattern.name


def with_params(route: str) -> bool:
    return bool(_PARAM.search(route))


def url_for(route: str, values: dict[str, str]) -> str:
    filled = _PARAM.sub(lambda m: values[m.group(1) or m.group(2)], route)
    return "/" + filled.replace("^", "").replace("$", "")


# Routes outside the admin that take an id or a token, and the test below that attacks each.
ATTACKED = {
    "web:loan": "test_a_loan_page_of_an_application_or_of_no_loan_is_a_404",
    "web:me_login": "test_a_used_or_made_up_login_link_signs_nobody_in",
    "signing:signing_page": "test_every_signing_route_under_a_made_up_link_is_a_404",
    "signing:status": "test_every_signing_route_under_a_made_up_link_is_a_404",
    "signing:link_message": "test_every_signing_route_under_a_made_up_link_is_a_404",
    "signing:link_verify": "test_every_signing_route_under_a_made_up_link_is_a_404",
    "signing:submitted": "test_every_signing_route_under_a_made_up_link_is_a_404",
}


def test_every_route_with_an_id_or_a_token_is_attacked():
    personal = {name for route, name in routes()
                if with_params(route) and not route.startswith("admin/")}
    assert personal == set(ATTACKED), (
        "a route that takes an id or a token is not attacked in tests/security/test_idor.py: "
        f"{sorted(personal - set(ATTACKED))}")
    assert all(name in globals() for name in ATTACKED.values())


@pytest.fixture
def lent(alice, bob):
    return active_loan(borrower=alice, lenders=[(bob, 300 * USD)])


def test_a_loan_page_of_an_application_or_of_no_loan_is_a_404(client, signed_in, alice, bob,
                                                              lent):
    application = loans.loan_request_create(borrower=alice, principal=100 * USD,
                                            installments=3, purpose="business")
    assert client.get(f"/loans/{lent.pk}/").status_code == 200  # a listed loan is public
    signed_in(bob)
    for loan_id in (application.pk, 999_999, 2**63, 10**30):
        response = client.get(f"/loans/{loan_id}/")
        assert response.status_code == 404, loan_id
        assert b"alice" not in response.content


def test_a_used_or_made_up_login_link_signs_nobody_in(client, signed_in, alice, bob):
    alices = urlsplit(login_link_create(user=alice)).path
    assert client.get(alices).status_code == 302
    client.post("/me/logout")
    signed_in(bob)
    for path in (alices, "/me/login/made-up-token/", "/me/login/" + "A" * 5000 + "/",
                 "/me/login/%27%20OR%201=1--/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Send /me to the bot for a new one." in response.content.decode()
        page = client.get("/me/").content.decode()
        assert "@bob" in page and "@alice" not in page
    assert LoginToken.objects.filter(user=alice, used_at__isnull=False).count() == 1


def test_every_signing_route_under_a_made_up_link_is_a_404(client, alice, bob, lent):
    request, token = actions.repay_request(user=alice, loan=lent, amount=USD)
    body = {"address": alice.wallet_address, "message": "x", "signature": "0x00",
            "tx_hashes": ["0x" + "ab" * 32]}
    signing = [(route, name) for route, name in routes() if name.startswith("signing:")
               and with_params(route)]
    assert len(signing) == 5
    for forged in ("made-up", token[:-1], token + "x", "A" * 5000, "%27%3B--"):
        for route, name in signing:
            url = url_for(route, {"token": forged})
            response = (client.get(url) if name in ("signing:signing_page", "signing:status")
                        else client.post(url, body, content_type="application/json"))
            assert response.status_code == 404, (name, forged)
            said = response.content.decode()
            assert "Ask the bot for a new one." in said or "does not exist" in said
    request.refresh_from_db()
    assert request.status == SigningStatus.PENDING and request.tx_hashes == []
    assert SigningRequest.objects.count() == 1


def test_my_pages_and_statement_show_only_mine_whatever_the_query_says(client, signed_in,
                                                                      alice, bob, charlie,
                                                                      lent):
    active_loan(borrower=alice, lenders=[(charlie, 300 * USD)])
    signed_in(charlie)
    foreign = {"user": bob.pk, "user_id": bob.pk, "telegram_id": bob.telegram_id,
               "id": bob.pk, "loan": lent.pk, "loan_id": lent.pk, "account": "1"}
    page = client.get("/me/", foreign).content.decode()
    assert "@charlie" in page and "@bob" not in page
    response = client.get("/me/statement.csv", foreign)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == Posting.objects.filter(account__user=charlie).count() > 0
    assert str(lent.pk) not in {row["loan_id"] for row in rows}


def admin_urls(values: dict[str, str]) -> list[str]:
    return [url_for(route, values) for route, _name in routes()
            if route.startswith("admin/") and with_params(route)]


def test_every_admin_route_with_an_id_sends_people_to_the_operators_login(client, signed_in,
                                                                          bob, lent):
    values = {"object_id": str(bob.pk), "content_type_id": "1", "id": str(bob.pk),
              "run_id": "1", "loan_id": str(lent.pk), "app_label": "users", "url": "users/x/",
              "pk": "1", "request_id": "1", "document_id": "1"}
    urls = admin_urls(values)
    assert len(urls) > 50
    for who in ("nobody", "a person signed in to their pages"):
        if who != "nobody":
            signed_in(bob)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, (who, url)
            assert response["Location"].startswith("/admin/login/"), (who, url)
