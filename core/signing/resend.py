"""An operator resends a signing link: the action is built again (so its rules are checked
again and time-limited parts such as an underwriter's approval are fresh), the old link stops
working, and the new link goes to the person through the outbox."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone, translation

from core.audit.models import OperatorActionKind
from core.audit.services import SYSTEM, Operator, operator_action_record
from core.notifications.services import notification_enqueue
from core.signing import actions
from core.signing.links import signing_links
from core.signing.models import SigningKind, SigningRequest, SigningStatus
from core.signing.services import signing_request_create

K = SigningKind


def _rebuild(old: SigningRequest) -> tuple[SigningRequest, str]:
    user, loan, amount = old.user, old.loan, old.amount
    builders = {
        K.LINK_WALLET: lambda: actions.wallet_link_request(user=user),
        K.OPEN_LOAN: lambda: actions.open_loan_request(user=user, loan=loan),
        K.FUND: lambda: actions.fund_request(user=user, loan=loan, amount=amount),
        K.DRAWDOWN: lambda: actions.drawdown_request(user=user, loan=loan),
        K.REPAY: lambda: actions.repay_request(user=user, loan=loan, amount=amount),
        K.CLAIM: lambda: actions.claim_request(user=user),
        K.REFUND: lambda: actions.refund_request(user=user, loan=loan),
        K.CANCEL: lambda: actions.cancel_request(user=user, loan=loan),
        K.POOL_DEPOSIT: lambda: actions.pool_deposit_request(user=user, amount=amount),
    }
    if old.kind in builders:
        return builders[old.kind]()
    # A withdrawal (and an admin's pause) carries no expiring part: the same calls again.
    return signing_request_create(user=user, kind=old.kind, summary=old.summary,
                                  transactions=old.transactions, loan=loan, amount=amount,
                                  expected_sender=old.expected_sender)


def signing_request_resend(*, request: SigningRequest, by: Operator = SYSTEM) -> SigningRequest:
    """A new link for the same action, sent to the person; raises ServiceError when the
    action is no longer allowed (the loan moved on, the account is frozen, ...)."""
    with transaction.atomic():
        with translation.override(request.user.language):
            new, token = _rebuild(request)
        SigningRequest.objects.filter(pk=request.pk, status=SigningStatus.PENDING).update(
            status=SigningStatus.EXPIRED, updated_at=timezone.now())
        links = signing_links(request=new, token=token)
        notification_enqueue(
            recipient=request.user, template_key="signing_link_resent",
            dedupe_key=f"signing:resend:{new.pk}",
            params={"summary": new.summary, "page": links.page, "wallets": links.wallets,
                    "eip681": links.eip681 or "", "expires_at": new.expires_at.isoformat(),
                    "loan_id": new.loan_id, "request_id": new.pk})
        operator_action_record(by=by, kind=OperatorActionKind.RESEND,
                               target=f"signing request #{request.pk} ({request.kind})",
                               reason=f"new link #{new.pk}", subject=request.user,
                               loan_id=request.loan_id)
    return new
