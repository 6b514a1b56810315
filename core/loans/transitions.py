"""A loan's state changes: checked against states.TRANSITIONS and recorded with actor, time,
reason and the chain event's ref; the errors every loan service raises."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.errors import ServiceError
from core.common.text import plain_text
from core.loans.batch import LoanBatch
from core.loans.models import Loan, LoanTransition
from core.loans.states import LoanState, can_transition
from core.users.models import TelegramUser

S = LoanState
CLOSING = frozenset({S.REPAID, S.REJECTED, S.EXPIRED, S.CANCELLED, S.DEFAULTED})
REASON_MAX_LENGTH = 2000  # a reason is a few words from a reviewer or a job, kept for audit


class IllegalTransition(ServiceError):
    code = "illegal_transition"


class LoanRuleViolation(ServiceError):
    code = "loan_rule"


def actor_label_of(actor: TelegramUser | None, label: str = "") -> str:
    if label:
        return label
    return f"user:{actor.telegram_id}" if actor is not None else "system"


def _refuse(loan: Loan, from_state: str, to_state: str) -> IllegalTransition:
    return IllegalTransition(_("Loan #%(loan)s cannot go from %(from)s to %(to)s.")
                             % {"loan": loan.pk, "from": from_state, "to": to_state})


def loan_transition(
    *, loan: Loan, to_state: str, actor: TelegramUser | None = None, actor_label: str = "",
    reason: str = "", ref: str = "",
) -> Loan:
    """Move a loan to `to_state` if the state machine allows it, recording who, when and why."""
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        from_state = locked.state
        if not can_transition(from_state, to_state):
            raise _refuse(loan, from_state, to_state)
        locked.state = to_state
        if to_state in CLOSING:
            locked.closed_at = timezone.now()
        locked.save(update_fields=["state", "closed_at", "updated_at"])
        locked.transitions.create(from_state=from_state, to_state=to_state, actor=actor,
                                  actor_label=actor_label_of(actor, actor_label),
                                  reason=plain_text(reason, max_length=REASON_MAX_LENGTH,
                                                    multiline=True),
                                  ref=ref)
    loan.refresh_from_db()
    return loan


def batch_transition(b: LoanBatch, loan: Loan, to_state: str, *, actor_label: str,
                     reason: str = "", ref: str = "") -> None:
    """loan_transition on a batch's locked loan (written when the batch is)."""
    if not can_transition(loan.state, to_state):
        raise _refuse(loan, loan.state, to_state)
    from_state = loan.state
    loan.state = to_state
    if to_state in CLOSING:
        loan.closed_at = timezone.now()
    b.add(LoanTransition(loan=loan, from_state=from_state, to_state=to_state,
                         actor_label=actor_label, reason=reason, ref=ref))
