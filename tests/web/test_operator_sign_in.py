"""Operators sign in to Django admin with a password and a second factor: a TOTP code from an
authenticator app set up by `manage.py operator_2fa`, or one of its one-time recovery codes.
Failed passwords lock the username out from that address for a while."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import struct
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def two_factor(settings):
    settings.OPERATOR_2FA_REQUIRED = True


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "a long passphrase")


def enroll(username: str = "root", *args: str) -> tuple[str, list[str]]:
    """The otpauth:// link and the recovery codes the command prints."""
    out = io.StringIO()
    call_command("operator_2fa", username, *args, stdout=out)
    text = out.getvalue()
    link = re.search(r"otpauth://\S+", text).group(0)
    codes = re.findall(r"^  (\S+)$", text, flags=re.MULTILINE)
    return link, codes


def totp_now(link: str) -> str:
    """RFC 6238 as an authenticator app computes it from the link (not django-otp's code)."""
    query = parse_qs(urlsplit(link).query)
    secret = query["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** int(query.get("digits", ["6"])[0])).zfill(6)


def sign_in(client: Client, *, password: str = "a long passphrase", device: str = "",
            token: str = ""):
    return client.post(LOGIN, {"username": "root", "password": password, "otp_device": device,
                               "otp_token": token})


def in_admin(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_a_password_alone_does_not_open_the_admin(two_factor, root, client, clock):
    enroll()
    page = sign_in(client)
    assert page.status_code == 200
    assert "Please enter your OTP token." in page.content.decode()
    assert not in_admin(client)


def test_the_authenticator_code_opens_the_admin_once(two_factor, root, client, clock):
    link, _codes = enroll()
    assert link.startswith("otpauth://totp/Lendgram%3Aroot?") and "issuer=Lendgram" in link
    device = TOTPDevice.objects.get(user=root)
    code = totp_now(link)
    assert sign_in(client, device=device.persistent_id, token=code).status_code == 302
    assert in_admin(client)
    # The same code replayed by someone who saw it is refused, even within its 30 seconds.
    other = Client()
    page = sign_in(other, device=device.persistent_id, token=code)
    assert "Invalid token" in page.content.decode()
    assert not in_admin(other)


def test_a_wrong_code_is_refused_and_slows_the_next_try(two_factor, root, client, clock):
    link, _codes = enroll()
    device = TOTPDevice.objects.get(user=root)
    wrong = str((int(totp_now(link)) + 1) % 1_000_000).zfill(6)
    assert "Invalid token" in sign_in(client, device=device.persistent_id,
                                      token=wrong).content.decode()
    # Right away, even the right code waits out the throttle.
    page = sign_in(client, device=device.persistent_id, token=totp_now(link))
    assert "Verification temporarily disabled because of 1 failed attempt" in page.content.decode()
    assert not in_admin(client)
    clock.shift(timedelta(seconds=31))
    assert sign_in(client, device=device.persistent_id, token=totp_now(link)).status_code == 302
    assert in_admin(client)


def test_a_recovery_code_works_once(two_factor, root, client, clock):
    _link, codes = enroll()
    assert len(codes) == 10 and len(set(codes)) == 10
    recovery = StaticDevice.objects.get(user=root)
    assert sign_in(client, device=recovery.persistent_id, token=codes[0]).status_code == 302
    assert in_admin(client)
    again = Client()
    assert "Invalid token" in sign_in(again, device=recovery.persistent_id,
                                      token=codes[0]).content.decode()
    assert recovery.token_set.count() == 9


def test_a_reset_retires_the_lost_phone_and_its_recovery_codes(two_factor, root, client, clock):
    old_link, old_codes = enroll()
    with pytest.raises(CommandError, match="already has an authenticator"):
        enroll()
    new_link, new_codes = enroll("root", "--reset")
    assert new_link != old_link and not set(new_codes) & set(old_codes)
    recovery = StaticDevice.objects.get(user=root)
    assert "Invalid token" in sign_in(client, device=recovery.persistent_id,
                                      token=old_codes[0]).content.decode()
    assert TOTPDevice.objects.filter(user=root).count() == 1


def test_only_staff_accounts_get_a_second_factor(db):
    User.objects.create_user("mallory", password="pw")
    with pytest.raises(CommandError, match="not a staff account"):
        enroll("mallory")
    with pytest.raises(CommandError, match="not a staff account"):
        enroll("nobody")
    assert not TOTPDevice.objects.exists()


def test_development_signs_in_with_the_password_alone(root, client, settings):
    settings.OPERATOR_2FA_REQUIRED = False
    assert sign_in(client).status_code == 302
    assert in_admin(client)


def test_failed_passwords_lock_the_username_out_from_that_address(root, client, settings, clock):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert sign_in(client, password="guess").status_code == 200
    # The fifth failure locks: from then on even the right password is refused, with 429.
    assert sign_in(client, password="guess").status_code == 429
    locked = sign_in(client)
    assert locked.status_code == 429
    assert not in_admin(client)
    # Another address is not locked out by a stranger's guesses.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(elsewhere).status_code == 302
    clock.shift(timedelta(minutes=31))
    assert sign_in(client).status_code == 302
    assert in_admin(client)
