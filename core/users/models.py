"""People who talk to the bot: borrowers, lenders and admins."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.common.encryption import EncryptedTextField
from core.common.models import TimeStampedModel


class KycTier(models.IntegerChoices):
    NONE = 0, "0 - not verified"
    BASIC = 1, "1 - phone and wallet"
    VERIFIED = 2, "2 - identity verified"
    ENHANCED = 3, "3 - enhanced due diligence"


TERMS_VERSION = "2026-11"  # the terms a person accepts now; an older consent must be renewed


class TelegramUser(TimeStampedModel):
    telegram_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=64, blank=True, db_index=True)
    first_name = models.CharField(max_length=128, blank=True)
    last_name = models.CharField(max_length=128, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

    is_borrower = models.BooleanField(default=False)
    is_lender = models.BooleanField(default=False)
    is_admin = models.BooleanField(default=False)

    consented_at = models.DateTimeField(null=True, blank=True)
    terms_version = models.CharField(max_length=16, blank=True)
    phone = EncryptedTextField(blank=True, help_text="Encrypted at rest.")
    wallet_address = models.CharField(max_length=42, blank=True)
    wallet_verified_at = models.DateTimeField(null=True, blank=True)
    kyc_tier = models.PositiveSmallIntegerField(choices=KycTier.choices, default=KycTier.NONE)

    is_frozen = models.BooleanField(default=False)
    frozen_reason = models.CharField(max_length=255, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)

    reminders_enabled = models.BooleanField(default=True)
    # Made on first use (user_referral_code); shared as t.me/<bot>?start=ref_<code>.
    referral_code = models.CharField(max_length=16, blank=True)
    referred_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="referrals")
    unreachable_since = models.DateTimeField(
        null=True, blank=True, help_text="Set when Telegram says the bot cannot reach the user."
    )
    personal_data_erased_at = models.DateTimeField(
        null=True, blank=True, help_text="The person had their personal data erased (/privacy): "
                                         "names Telegram sends are no longer stored.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet_address"],
                condition=~Q(wallet_address=""),
                name="users_unique_verified_wallet",
            ),
            models.CheckConstraint(
                condition=Q(wallet_address="") | Q(wallet_verified_at__isnull=False),
                name="users_wallet_needs_verification_time",
            ),
            models.UniqueConstraint(
                fields=["referral_code"],
                condition=~Q(referral_code=""),
                name="users_unique_referral_code",
            ),
            models.CheckConstraint(condition=~Q(referred_by=models.F("pk")),
                                   name="users_no_self_referral"),
        ]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else f"tg:{self.telegram_id}"

    @property
    def roles(self) -> list[str]:
        return [name for name, held in (("borrower", self.is_borrower),
                                        ("lender", self.is_lender),
                                        ("admin", self.is_admin)) if held]
