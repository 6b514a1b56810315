"""What people asked about their data, and when: the record that their request was met."""

from django.db import models

from core.users.models import TelegramUser


class DataRequestKind(models.TextChoices):
    EXPORT = "export"
    ERASURE = "erasure"


class DataRequest(models.Model):
    user = models.ForeignKey(TelegramUser, on_delete=models.PROTECT,
                             related_name="data_requests")
    kind = models.CharField(max_length=8, choices=DataRequestKind.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    details = models.JSONField(default=dict, blank=True,
                               help_text="What was exported or erased (counts, never content).")

    class Meta:
        verbose_name = "privacy request"

    def __str__(self) -> str:
        return f"{self.kind} by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"
