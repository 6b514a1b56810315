"""What the bot must remember between updates and across processes: which updates it has
already taken in, where each person is in a conversation, and which process is working
through a chat's updates right now."""

from django.db import models

from core.common.models import TimeStampedModel


class UpdateStatus(models.TextChoices):
    PENDING = "pending"  # recorded, not yet handled (a crash here means: handle on restart)
    HANDLED = "handled"


class ReceivedUpdate(models.Model):
    """One Telegram update, recorded before it is handled: a duplicate id is dropped, and an
    update recorded by a process that died is handled by the next one."""

    update_id = models.BigIntegerField(primary_key=True)
    chat_id = models.BigIntegerField(db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=UpdateStatus.choices,
                              default=UpdateStatus.PENDING)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "chat_id", "update_id"])]

    def __str__(self) -> str:
        return f"update {self.update_id} (chat {self.chat_id}, {self.status})"


class ChatSession(TimeStampedModel):
    """Where one person is in a conversation with the bot in one chat, and the draft so far.

    `step` is a journey's state name ("calc.amount"); `nonce` changes whenever the step does,
    and buttons carry it, so a button from an older message is recognised as stale.
    """

    chat_id = models.BigIntegerField()
    user_id = models.BigIntegerField(help_text="Telegram user id.")
    step = models.CharField(max_length=64, blank=True)
    draft = models.JSONField(default=dict, blank=True)
    nonce = models.CharField(max_length=12, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat_id", "user_id"], name="chat_one_session"),
        ]

    def __str__(self) -> str:
        return f"chat {self.chat_id} user {self.user_id}: {self.step or '-'}"


class ChatLease(models.Model):
    """The bot process currently handling a chat's updates, so one chat is handled in order
    by one process at a time while other chats run elsewhere."""

    chat_id = models.BigIntegerField(primary_key=True)
    owner = models.CharField(max_length=64, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"chat {self.chat_id} -> {self.owner or 'free'}"
