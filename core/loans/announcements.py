"""Announcing new listings in a Telegram channel (optional: settings.LOANS_CHANNEL_ID).

Queued through the outbox like every message, once per loan (the dedupe key), so a listing
seen twice by the indexer, or re-applied after a reorganisation, is announced once.
"""

from __future__ import annotations

from django.conf import settings

from core.loans.models import Loan
from core.notifications.services import notification_enqueue_to_chat


def loan_listing_announce(*, loan: Loan) -> bool:
    """Queue the channel card of a newly listed loan; True if one was queued now."""
    chat_id = settings.LOANS_CHANNEL_ID
    if not chat_id:
        return False
    _, created = notification_enqueue_to_chat(
        chat_id=chat_id, template_key="loan_listing_announcement",
        dedupe_key=f"channel:{chat_id}:loan_listed:{loan.pk}",
        params={"loan_id": loan.pk, "language": settings.LOANS_CHANNEL_LANGUAGE,
                "principal": loan.principal, "grade": loan.grade, "apr_bps": loan.apr_bps,
                "installments": loan.installments, "purpose": loan.purpose,
                "deadline": loan.funding_deadline.isoformat() if loan.funding_deadline else ""})
    return created
