"""Demo data for the embedded default: a few people and loans in every interesting state,
made through the real services so histories, schedules and ledger entries are genuine.

Demo loans carry chain loan ids from DEMO_CHAIN_ID_BASE up, far from the ids a fresh local
LoanBook hands out, so they never collide with loans opened on the dev chain.
"""

from __future__ import annotations

import io
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from core.kyc.models import DocumentKind
from core.kyc.services import Upload, kyc_request_submit
from core.loans import amortization
from core.loans import services as loans
from core.loans.models import Loan
from core.users import services as users
from core.users.models import KycTier, TelegramUser

DEMO_CHAIN_ID_BASE = 9_000_000
UNIT = 10 ** settings.STABLE_DECIMALS
FEE_BPS, PREMIUM_BPS = 1_000, 500

PEOPLE = [
    # telegram id, username, language, borrower, lender
    (910_001, "demo_amara", "en", True, False),
    (910_002, "demo_lucia", "es", True, False),
    (910_003, "demo_reza", "fa", True, False),
    (910_004, "demo_joao", "pt-br", False, True),
    (910_005, "demo_olga", "ru", False, True),
    (910_006, "demo_priya", "hi", True, True),
]


def demo_exists() -> bool:
    return TelegramUser.objects.filter(telegram_id=PEOPLE[0][0]).exists()


def _person(telegram_id, username, language, borrower, lender) -> TelegramUser:
    user, _ = users.user_get_or_create_from_telegram(telegram_id=telegram_id, username=username,
                                                     language_code=language)
    users.user_set_roles(user=user, borrower=borrower, lender=lender)
    users.user_record_consent(user=user)
    users.user_set_phone(user=user, phone=f"+1555{telegram_id:07d}", contact_user_id=telegram_id)
    users.user_link_wallet(user=user, address=f"0x{telegram_id:040x}")
    return users.user_set_kyc_tier(user=user, tier=KycTier.VERIFIED)


def _offered(borrower, principal, installments, purpose, grade, apr_bps, score) -> Loan:
    loan = loans.loan_request_create(borrower=borrower, principal=principal * UNIT,
                                     installments=installments, purpose=purpose)
    loans.loan_submit(loan=loan, actor=borrower)
    return loans.loan_record_offer(loan=loan, grade=grade, score=score, apr_bps=apr_bps,
                                   reasons=["repayment_history_short", "phone_shared"])


def _listed(loan: Loan, deadline_days: int = 7) -> Loan:
    loans.loan_approve(loan=loan, actor_label="policy", reason="within automatic limits")
    return loans.loan_record_listing(
        loan=loan, chain_loan_id=DEMO_CHAIN_ID_BASE + loan.pk,
        funding_deadline=timezone.now() + timedelta(days=deadline_days))


def _repay(loan: Loan, amount: int, ref: str, at) -> None:
    loan.refresh_from_db()
    split = amortization.repayment_split(repaid_before=loan.repaid_amount, amount=amount,
                                         principal=loan.principal, total_due=loan.total_due,
                                         fee_bps=FEE_BPS, premium_bps=PREMIUM_BPS)
    loans.loan_record_repayment(loan=loan, amount=amount, fee=split.fee, premium=split.premium,
                                ref=ref, at=at)


def _specimen(label: str, colour: str) -> bytes:
    """A made-up picture standing in for a document photo (the review queue shows it)."""
    image = Image.new("RGB", (480, 300), colour)
    ImageDraw.Draw(image).text((24, 24), f"SPECIMEN - {label}", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


@transaction.atomic
def seed_demo(*, admin_password: str) -> bool:
    """Create the demo world once; returns False when it is already there."""
    if demo_exists():
        return False
    User = get_user_model()
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@lendgram.invalid", admin_password)
    amara, lucia, reza, joao, olga, priya = (_person(*row) for row in PEOPLE)
    now = timezone.now()

    loans.loan_request_create(borrower=amara, principal=150 * UNIT, installments=3,
                              purpose="education")
    review = _offered(lucia, 900, 12, "business", "C", 2400, 640)
    loans.loan_send_to_review(loan=review, reason="amount above the automatic approval limit")

    funding = _listed(_offered(reza, 400, 6, "home", "B", 1800, 705))
    loans.loan_record_funding(loan=funding, lender=joao, amount=150 * UNIT, ref="demo:fund:1")

    active = _listed(_offered(amara, 300, 3, "business", "A", 1200, 790))
    loans.loan_record_funding(loan=active, lender=joao, amount=100 * UNIT, ref="demo:fund:2")
    loans.loan_record_funding(loan=active, lender=olga, amount=200 * UNIT, ref="demo:fund:3")
    loans.loan_record_drawdown(loan=active, ref="demo:draw:2", at=now - timedelta(days=40))
    first = active.schedule.get(number=1)
    _repay(active, first.amount, "demo:repay:2:1", now - timedelta(days=11))

    repaid = _listed(_offered(priya, 200, 2, "medical", "B", 1600, 720))
    loans.loan_record_funding(loan=repaid, lender=olga, amount=200 * UNIT, ref="demo:fund:4")
    loans.loan_record_drawdown(loan=repaid, ref="demo:draw:4", at=now - timedelta(days=65))
    for item in repaid.schedule.all():
        _repay(repaid, item.amount, f"demo:repay:4:{item.number}",
               now - timedelta(days=65 - item.number * 30))

    # Drawn down 45 days ago and never repaid: the lateness job marks it late.
    overdue = _listed(_offered(priya, 250, 3, "vehicle", "C", 2200, 650))
    loans.loan_record_funding(loan=overdue, lender=joao, amount=250 * UNIT, ref="demo:fund:6")
    loans.loan_record_drawdown(loan=overdue, ref="demo:draw:6", at=now - timedelta(days=45))

    expired = _listed(_offered(amara, 120, 2, "personal", "D", 3000, 580), deadline_days=1)
    loans.loan_record_funding(loan=expired, lender=priya, amount=40 * UNIT, ref="demo:fund:5")
    loans.loan_expire(loan=expired)
    loans.loan_record_refund(loan=expired, lender=priya, amount=40 * UNIT, ref="demo:refund:5")

    # Documents waiting in the KYC review queue (/admin/kyc/kycrequest/).
    kyc_request_submit(user=lucia, uploads=[
        Upload(kind=DocumentKind.ID_DOCUMENT, data=_specimen("identity card", "lightblue")),
        Upload(kind=DocumentKind.SELFIE, data=_specimen("selfie", "wheat"))])
    return True
