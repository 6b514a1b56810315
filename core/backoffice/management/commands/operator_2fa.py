"""manage.py operator_2fa <username>: give a staff account its second factor.

Prints the authenticator app's otpauth:// link (and its QR code in the terminal) and a fresh
set of one-time recovery codes. Run again with --reset when a phone is lost: the old
authenticator and every unused recovery code stop working.
"""

from __future__ import annotations

import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


class Command(BaseCommand):
    help = "Set up TOTP two-factor sign-in and recovery codes for a staff account."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true",
                            help="Replace an existing authenticator and its recovery codes.")
        parser.add_argument("--codes", type=int, default=10, help="Recovery codes to make.")

    def handle(self, *args, username: str, reset: bool, codes: int, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_staff:
            raise CommandError(f"{username!r} is not a staff account (createsuperuser first).")
        if not 1 <= codes <= 50:
            raise CommandError("--codes must be between 1 and 50.")
        with transaction.atomic():
            existing = TOTPDevice.objects.filter(user=user, name=AUTHENTICATOR)
            if existing.exists() and not reset:
                raise CommandError(f"{username} already has an authenticator: use --reset to "
                                   "replace it (the old one and its recovery codes stop working).")
            existing.delete()
            StaticDevice.objects.filter(user=user, name=RECOVERY).delete()
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=True)
            recovery = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
            tokens = [StaticToken.random_token() for _ in range(codes)]
            StaticToken.objects.bulk_create(StaticToken(device=recovery, token=token)
                                            for token in tokens)
        qr = qrcode.QRCode(border=1)
        qr.add_data(device.config_url)
        picture = io.StringIO()
        qr.print_ascii(out=picture)
        self.stdout.write(f"Scan this with an authenticator app (or open the link on the phone):\n"
                          f"{picture.getvalue()}\n{device.config_url}\n\n"
                          f"Recovery codes for {username}, each works once; keep them offline:\n"
                          + "\n".join(f"  {token}" for token in tokens))
