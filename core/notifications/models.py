"""The outbox: messages core wants delivered; the bot's sender delivers them."""

from django.db import models
from django.db.models import Q

from core.common.models import TimeStampedModel
from core.users.models import TelegramUser


class OutboxStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # permanent: the user blocked the bot, the chat is gone, ...


class OutboxMessage(TimeStampedModel):
    recipient = models.ForeignKey(TelegramUser, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="outbox_messages")
    chat_id = models.BigIntegerField(help_text="Telegram chat; the user's id or a channel.")
    template_key = models.CharField(max_length=64, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=160, unique=True,
                                  help_text="The same event never produces two messages.")
    status = models.CharField(max_length=8, choices=OutboxStatus.choices,
                              default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False),
                                   name="notifications_sent_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.template_key} -> {self.chat_id} ({self.status})"


class Broadcast(TimeStampedModel):
    """A message an admin sent to every reachable user; each copy is an outbox row."""

    author = models.ForeignKey(TelegramUser, null=True, on_delete=models.SET_NULL,
                               related_name="broadcasts")
    text = models.TextField()
    recipients = models.PositiveIntegerField(default=0, help_text="Copies queued.")

    def __str__(self) -> str:
        return f"broadcast #{self.pk} to {self.recipients}"
