"""Every page carries a strict Content-Security-Policy, read here as the browser receives it;
the pages still run (no violation in the console); the Mini App's pages may be framed by
Telegram's web client and by no one else, and the admin and signing pages by no one."""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User

from core.signing import services
from core.signing.models import SigningKind
from core.users import services as users
from tests.factories import USD, listed_loan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def framing_site():
    """Another origin on this machine (Chromium refuses a public page framing a local one
    before any policy is read): GET /?src=<url> answers a page that frames <url>."""

    class Framing(BaseHTTPRequestHandler):
        def do_GET(self):
            src = parse_qs(urlsplit(self.path).query).get("src")
            if not src:
                self.send_error(404)
                return
            src = html.escape(src[0])
            body = f'<!doctype html><iframe id="app" src="{src}"></iframe>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Framing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def telegram_web(settings, framing_site):
    """The framing site stands in for Telegram's web client."""
    settings.TELEGRAM_FRAME_ANCESTORS = [framing_site]
    return framing_site


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def signing_token() -> str:
    user, _ = users.user_get_or_create_from_telegram(telegram_id=3001, username="erin")
    _request, token = services.signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                                      summary="Link your wallet to Lendgram.")
    return token


def test_every_page_sends_a_strict_policy_and_breaks_none_of_its_scripts(live_server,
                                                                         browser_page, alice,
                                                                         settings):
    settings.PUBLIC_BASE_URL = live_server.url
    loan = listed_loan(borrower=alice, principal=120 * USD)
    User.objects.create_superuser("root", "root@example.com", "pw")
    page = browser_page
    # /me/app/ signs in with Telegram's init data under this policy in tests/web/test_browser.py.
    paths = ["/", "/loans/", f"/loans/{loan.pk}/", "/pool/", "/me/", f"/s/{signing_token()}/",
             "/admin/login/"]
    for path in paths:
        response = page.goto(live_server.url + path)
        header = response.headers["content-security-policy"]
        directives = policy(header)
        assert directives["default-src"] == ["'none'"], path
        assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
        scripts = directives["script-src"]
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, path
        assert "'unsafe-inline'" not in directives["style-src"], path
        assert not [source for source in scripts if source.startswith("http")], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    # The admin sign-in works under the policy: its own scripts and styles load.
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    response = page.goto(f"{live_server.url}/admin/loans/loan/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert page.errors == []


def test_inline_code_runs_only_with_the_nonce_of_its_own_response(client, settings):
    settings.SANDBOX_EMULATOR_URL = "http://127.0.0.1:8081"
    nonces = []
    for _ in range(2):
        response = client.get("/sandbox/")
        directives = policy(response["Content-Security-Policy"])
        nonce = next(source for source in directives["script-src"]
                     if source.startswith("'nonce-"))[len("'nonce-"):-1]
        html_text = response.content.decode()
        assert html_text.count(f'nonce="{nonce}"') == 2  # its <style> and its <script>
        assert f"'nonce-{nonce}'" in directives["style-src"]
        # The chat reads the emulator and shows its photos; nothing else is reachable.
        assert directives["connect-src"] == ["'self'", "http://127.0.0.1:8081"]
        assert directives["img-src"] == ["'self'", "data:", "http://127.0.0.1:8081"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_signing_page_reaches_walletconnect_only_when_it_is_configured(client, settings):
    token = signing_token()
    plain = policy(client.get(f"/s/{token}/")["Content-Security-Policy"])
    assert plain["connect-src"] == ["'self'"] and "frame-src" not in plain
    settings.WALLETCONNECT_PROJECT_ID = "0123456789abcdef0123456789abcdef"
    connected = policy(client.get(f"/s/{token}/")["Content-Security-Policy"])
    assert "wss://*.walletconnect.org" in connected["connect-src"]
    assert "https://verify.walletconnect.org" in connected["frame-src"]
    assert connected["script-src"] == plain["script-src"]


def test_the_mini_app_pages_may_be_framed_by_telegram_only(live_server, browser_page):
    response = browser_page.goto(live_server.url + "/me/app/")
    assert policy(response.headers["content-security-policy"])["frame-ancestors"] == [
        "'self'", "https://web.telegram.org", "https://webk.telegram.org",
        "https://webz.telegram.org"]
    assert "x-frame-options" not in response.headers
    for path in ("/admin/login/", f"/s/{signing_token()}/"):
        response = browser_page.goto(live_server.url + path)
        assert policy(response.headers["content-security-policy"])["frame-ancestors"] == [
            "'none'"], path
        assert response.headers["x-frame-options"] == "DENY"


def framed_body(page, top: str, src: str) -> str:
    """Open `src` in an iframe of a page of the site `top`; what the frame shows."""
    page.goto(f"{top}/?src={src}")
    frame = page.frame_locator("#app")
    page.wait_for_timeout(1500)
    try:
        return frame.locator("body").inner_text(timeout=2000)
    except Exception:  # a refused frame has no document to read
        return ""


def test_telegram_web_shows_the_mini_app_in_its_frame(live_server, browser_page, telegram_web):
    body = framed_body(browser_page, telegram_web, f"{live_server.url}/loans/")
    assert "Lendgram" in body


def test_another_site_cannot_frame_the_pages(live_server, browser_page, framing_site):
    assert "Lendgram" not in framed_body(browser_page, framing_site, f"{live_server.url}/loans/")
    assert any("frame-ancestors" in error for error in browser_page.errors)


def test_even_telegram_cannot_frame_the_admin(live_server, browser_page, telegram_web):
    assert "Lendgram" not in framed_body(browser_page, telegram_web,
                                         f"{live_server.url}/admin/login/")
