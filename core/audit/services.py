"""Recording operator actions. Services that act for an operator take an `Operator` and call
`operator_action_record` inside their own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.audit.models import OperatorAction


class TelegramPerson(Protocol):
    telegram_id: int
    username: str


@dataclass(frozen=True)
class Operator:
    """Who acts: a staff account in Django admin (with the admin Telegram account it maps to,
    if any), an admin Telegram account in the bot, or the platform itself."""

    label: str
    staff_user_id: int | None = None
    admin_telegram_id: int | None = None

    @classmethod
    def staff(cls, user, *, admin: TelegramPerson | None = None) -> Operator:
        return cls(label=f"staff:{user.get_username()}", staff_user_id=user.pk,
                   admin_telegram_id=admin.telegram_id if admin else None)

    @classmethod
    def telegram(cls, admin: TelegramPerson) -> Operator:
        handle = f" (@{admin.username})" if admin.username else ""
        return cls(label=f"telegram:{admin.telegram_id}{handle}",
                   admin_telegram_id=admin.telegram_id)


# A service called by a script or a job rather than by a person.
SYSTEM = Operator(label="system")


def operator_action_record(*, by: Operator, kind: str, target: str, reason: str = "",
                           subject: TelegramPerson | None = None,
                           loan_id: int | None = None) -> OperatorAction:
    return OperatorAction.objects.create(
        kind=kind, operator=by.label[:128], staff_user_id=by.staff_user_id,
        admin_telegram_id=by.admin_telegram_id,
        subject_telegram_id=subject.telegram_id if subject else None, loan_id=loan_id,
        target=target[:128], reason=reason.strip())
