"""Reads about the outbox."""

from django.db.models import Min
from django.utils import timezone

from core.notifications.models import OutboxMessage, OutboxStatus


def outbox_backlog() -> dict:
    pending = OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "pending": pending.count(),
        "oldest_age_s": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
    }
