"""A person's own data (/privacy): the export of everything we hold about them, and the
erasure of what the law lets us erase while keeping what lending records require.

Erased: phone number, names and username (and they are not stored again when Telegram sends
them), the identity document images, the income and work answers, conversation drafts and the
text of updates and delivered messages. Kept: loans, positions, repayments, ledger postings,
signing requests, scores, KYC decisions and the wallet address, which lending, accounting and
anti-money-laundering rules require us to keep, and which the chain holds anyway.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.chat.services import chat_person_forget
from core.common.errors import ServiceError
from core.kyc.selectors import kyc_user_requests
from core.kyc.services import kyc_user_documents_erase
from core.ledger.selectors import user_statement
from core.loans.models import FundingPosition, Loan
from core.loans.states import IN_FLIGHT, OPEN_FOR_FUNDING, OUTSTANDING
from core.notifications.services import notifications_forget_texts
from core.privacy.models import DataRequest, DataRequestKind
from core.scoring.models import BorrowerProfile, Score
from core.signing.models import SigningRequest
from core.users.models import TelegramUser

EXPORT_VERSION = 1
# The person's loans in these states still need to reach them (offers, reminders, refunds).
_BORROWER_OPEN = IN_FLIGHT | OUTSTANDING
_LENDER_OPEN = OPEN_FOR_FUNDING | OUTSTANDING


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _profile(user: TelegramUser) -> dict:
    return {
        "telegram_id": user.telegram_id, "username": user.username,
        "first_name": user.first_name, "last_name": user.last_name,
        "language": user.language, "roles": user.roles, "phone": user.phone,
        "consented_at": _when(user.consented_at), "terms_version": user.terms_version,
        "wallet_address": user.wallet_address,
        "wallet_verified_at": _when(user.wallet_verified_at), "kyc_tier": user.kyc_tier,
        "is_frozen": user.is_frozen, "reminders_enabled": user.reminders_enabled,
        "referral_code": user.referral_code, "referred_by": user.referred_by_id is not None,
        "personal_data_erased_at": _when(user.personal_data_erased_at),
        "created_at": _when(user.created_at),
    }


def _loans(user: TelegramUser) -> list[dict]:
    loans = (Loan.objects.filter(borrower=user)
             .prefetch_related("schedule", "repayments", "transitions").order_by("pk"))
    return [{
        "id": loan.pk, "state": loan.state, "principal": loan.principal,
        "total_due": loan.total_due, "installments": loan.installments,
        "interval_days": loan.interval_days, "purpose": loan.purpose, "grade": loan.grade,
        "score": loan.score, "apr_bps": loan.apr_bps, "chain_loan_id": loan.chain_loan_id,
        "funding_deadline": _when(loan.funding_deadline), "funded_amount": loan.funded_amount,
        "repaid_amount": loan.repaid_amount, "created_at": _when(loan.created_at),
        "closed_at": _when(loan.closed_at),
        "schedule": [{"number": item.number, "due_at": _when(item.due_at),
                      "amount": item.amount, "interest": item.interest,
                      "principal": item.principal, "paid_at": _when(item.paid_at)}
                     for item in sorted(loan.schedule.all(), key=lambda item: item.number)],
        "repayments": [{"amount": pay.amount, "interest": pay.interest,
                        "principal": pay.principal, "paid_at": _when(pay.paid_at)}
                       for pay in loan.repayments.all()],
        "history": [{"from": move.from_state, "to": move.to_state, "at": _when(move.created_at),
                     "by": move.actor_label, "reason": move.reason}
                    for move in sorted(loan.transitions.all(), key=lambda m: m.created_at)],
    } for loan in loans]


def _positions(user: TelegramUser) -> list[dict]:
    positions = (FundingPosition.objects.filter(lender=user).select_related("loan")
                 .order_by("pk"))
    return [{"loan_id": p.loan_id, "loan_state": p.loan.state, "amount": p.amount,
             "claimed": p.claimed, "refunded": p.refunded, "since": _when(p.created_at)}
            for p in positions]


def _ledger(user: TelegramUser) -> list[dict]:
    postings = reversed(user_statement(user=user))  # oldest first, as a statement reads
    return [{"occurred_at": _when(p.entry.occurred_at), "description": p.entry.description,
             "account": p.account.kind, "loan_id": p.entry.loan_id, "amount": p.amount}
            for p in postings]


def _signing(user: TelegramUser) -> list[dict]:
    requests = SigningRequest.objects.filter(user=user).order_by("pk")
    return [{"kind": r.kind, "status": r.status, "loan_id": r.loan_id, "amount": r.amount,
             "chain_id": r.chain_id, "summary": r.summary, "tx_hashes": r.tx_hashes,
             "created_at": _when(r.created_at), "expires_at": _when(r.expires_at),
             "confirmed_at": _when(r.confirmed_at), "failure_reason": r.failure_reason}
            for r in requests]


def _kyc(user: TelegramUser) -> list[dict]:
    # The images themselves are not exported: the person holds the originals, and a copy sent
    # back through the chat would put their identity document into one more place.
    return [{"id": r.pk, "from_tier": r.from_tier, "target_tier": r.target_tier,
             "status": r.status, "sent_at": _when(r.created_at),
             "decided_at": _when(r.decided_at), "rejection_reason": r.rejection_reason,
             "note": r.note, "documents_deleted_at": _when(r.documents_deleted_at),
             "documents": [{"kind": d.kind, "content_type": d.content_type, "size": d.size,
                            "sha256": d.sha256, "stored": not d.deleted_at,
                            "deleted_at": _when(d.deleted_at)} for d in r.documents.all()]}
            for r in kyc_user_requests(user=user)]


def _scores(user: TelegramUser) -> list[dict]:
    return [{"at": _when(s.created_at), "score": s.score, "grade": s.grade,
             "reasons": s.reasons, "decision": s.decision, "loan_id": s.loan_id}
            for s in Score.objects.filter(borrower=user).order_by("created_at", "pk")]


def privacy_export(*, user: TelegramUser) -> dict:
    """Everything held about the person, as one JSON-ready document (amounts are integers of
    base units, 6 decimals), and a record that they asked for it."""
    profile = BorrowerProfile.objects.filter(user=user).first()
    export = {
        "format": f"lendgram-personal-data/{EXPORT_VERSION}",
        "exported_at": _when(timezone.now()),
        "amounts": "integers of base units of the stable token (6 decimals)",
        "profile": _profile(user),
        "borrower_profile": ({"income_band": profile.income_band,
                              "employment": profile.employment} if profile else None),
        "loans": _loans(user),
        "positions": _positions(user),
        "ledger": _ledger(user),
        "signing_requests": _signing(user),
        "kyc_requests": _kyc(user),
        "scores": _scores(user),
        "privacy_requests": [{"kind": r.kind, "at": _when(r.created_at)}
                             for r in DataRequest.objects.filter(user=user).order_by("pk")],
    }
    DataRequest.objects.create(user=user, kind=DataRequestKind.EXPORT, details={
        key: len(export[key]) for key in ("loans", "positions", "ledger", "signing_requests",
                                          "kyc_requests", "scores")})
    return export


def privacy_export_file(*, user: TelegramUser) -> bytes:
    return json.dumps(privacy_export(user=user), ensure_ascii=False, indent=2).encode()


def privacy_erasure_blockers(*, user: TelegramUser) -> list[str]:
    """Why erasure must wait, in words: loans or positions that still need to reach the
    person. Empty when it may go ahead."""
    reasons = []
    if Loan.objects.filter(borrower=user, state__in=_BORROWER_OPEN).exists():
        reasons.append(_("You have a loan or an application that is still open: we must be "
                         "able to reach you about it until it is repaid or closed."))
    if FundingPosition.objects.filter(lender=user, loan__state__in=_LENDER_OPEN).exists():
        reasons.append(_("You have lent to a loan that is still running: we must be able to "
                         "tell you about its repayments until it is closed."))
    return reasons


@transaction.atomic
def privacy_erase(*, user: TelegramUser) -> TelegramUser:
    """Erase what the law allows; refuse while open loans or positions need contact."""
    user = TelegramUser.objects.select_for_update().get(pk=user.pk)
    blockers = privacy_erasure_blockers(user=user)
    if blockers:
        raise ServiceError(" ".join(blockers), code="still_lending")
    now = timezone.now()
    user.phone = ""
    user.username = user.first_name = user.last_name = ""
    user.personal_data_erased_at = now
    user.save(update_fields=["phone", "username", "first_name", "last_name",
                             "personal_data_erased_at", "updated_at"])
    documents = kyc_user_documents_erase(user=user)
    profiles, _count = BorrowerProfile.objects.filter(user=user).delete()
    chat_person_forget(telegram_id=user.telegram_id)
    messages = notifications_forget_texts(recipient=user)
    DataRequest.objects.create(user=user, kind=DataRequestKind.ERASURE, details={
        "kyc_documents": documents, "borrower_profile": profiles, "message_texts": messages})
    return user
