"""One-time login links to the personal pages, sent by the bot."""

from django.db import models

from core.users.models import TelegramUser


class LoginToken(models.Model):
    """Only the token's hash is kept: a database leak gives no working links."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(TelegramUser, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"login link of {self.user_id} ({'used' if self.used_at else 'unused'})"
