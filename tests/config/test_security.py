"""Secure by default: a deployment that sets nothing but its secret key and host runs with
DEBUG off, HTTPS enforced behind its proxy, secure cookies, a strict Content-Security-Policy
and two-factor operators, and `manage.py check --deploy` finds nothing to warn about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from config.clientip import client_ip

ROOT = Path(__file__).resolve().parents[2]
# What the suite (tests/settings.py) and a developer's shell may have set.
SUITE = {"DJANGO_DEBUG", "DJANGO_SECURE_HTTPS", "OPERATOR_2FA_REQUIRED", "DJANGO_SECRET_KEY",
         "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS"}
STRONG_KEY = "k3y-" + "".join(chr(ord("a") + (i * 7) % 26) + str(i % 10) for i in range(30))


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SUITE}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", LENDGRAM_VAR_DIR=str(tmp_path),
               **extra)
    return env


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


READ = ("from django.conf import settings as s; import json; print(json.dumps([s.DEBUG, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.OPERATOR_2FA_REQUIRED, s.SECURE_PROXY_SSL_HEADER]))")


def test_with_nothing_set_debug_is_off_and_https_and_two_factor_are_on(tmp_path):
    result = manage("shell", "--no-imports", "-c", READ, env=production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    debug, redirect, hsts, session_secure, csrf_secure, two_factor, proxy_header = json.loads(
        result.stdout.strip().splitlines()[-1])
    assert (debug, redirect, session_secure, csrf_secure, two_factor) == (
        False, True, True, True, True)
    assert hsts >= 31536000
    assert proxy_header == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_check_deploy_finds_nothing_to_warn_about_in_the_production_settings(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=STRONG_KEY,
                         DJANGO_ALLOWED_HOSTS="lendgram.example")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_a_deployment_that_turned_debug_on(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="1",
                         DJANGO_ALLOWED_HOSTS="lendgram.example")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on in deployment


def test_check_deploy_warns_when_the_key_or_the_second_factor_is_missing(tmp_path):
    env = production_env(tmp_path, DJANGO_ALLOWED_HOSTS="lendgram.example",
                         OPERATOR_2FA_REQUIRED="0")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "lendgram.W001" in output and "DJANGO_SECRET_KEY is not set" in output
    assert "lendgram.W002" in output


def test_plain_http_is_sent_to_https_except_the_probes(settings, db):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    response = client.get("/loans/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/loans/"
    assert client.get("/health/live").status_code == 200
    # Behind the proxy, its X-Forwarded-Proto says the request came over TLS.
    assert client.get("/loans/", headers={"X-Forwarded-Proto": "https"}).status_code == 200


def test_https_responses_carry_hsts_and_the_referrer_policy(settings, db):
    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 31536000
    response = Client().get("/loans/", headers={"X-Forwarded-Proto": "https"})
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload")
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's own words
    (1, "203.0.113.9", "203.0.113.9"),
    (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client wrote the left one itself
    (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
    (2, "203.0.113.9", "10.0.0.2"),  # fewer entries than proxies: not through them
])
def test_the_lockout_sees_the_address_the_trusted_proxies_recorded(settings, proxies,
                                                                   forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
