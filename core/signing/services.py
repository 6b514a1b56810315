"""Signing requests: created only here, after the rules of the action have been checked."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.errors import ServiceError
from core.notifications.services import notification_enqueue
from core.signing.models import (
    SigningKind,
    SigningRequest,
    SigningStatus,
    SubmittedTransaction,
)
from core.users.models import TelegramUser
from core.users.services import user_link_wallet
from onchain import siwe

DEFAULT_TTL = timedelta(minutes=30)
_TX_HASH = re.compile(r"^0x[0-9a-f]{64}$")
# Kinds whose confirmation no chain-event message already tells the person about (a listing,
# a funding, a drawdown, a repayment, a claim and a cancellation each have their own).
CONFIRMATION_TOLD = frozenset({SigningKind.REFUND, SigningKind.POOL_DEPOSIT,
                               SigningKind.POOL_WITHDRAW, SigningKind.PAUSE,
                               SigningKind.UNPAUSE})


class SigningRequestError(ServiceError):
    code = "signing_request"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signing_request_create(
    *, user: TelegramUser, kind: str, summary: str, transactions: list[dict] | None = None,
    loan=None, amount: int | None = None, ttl: timedelta = DEFAULT_TTL,
    expected_sender: str = "",
) -> tuple[SigningRequest, str]:
    """Store a request and return it with its one-time token (shown once, never stored)."""
    if kind not in SigningKind.values:
        raise SigningRequestError(_("Unknown signing kind %(kind)s.") % {"kind": kind})
    if user.is_frozen:
        raise SigningRequestError(_("Your account is frozen."), code="frozen")
    token = secrets.token_urlsafe(24)
    request = SigningRequest.objects.create(
        token_hash=token_hash(token), user=user, kind=kind, loan=loan, amount=amount,
        chain_id=settings.CHAIN_ID, transactions=transactions or [], summary=summary,
        expected_sender=expected_sender, expires_at=timezone.now() + ttl,
        siwe_nonce=siwe.new_nonce() if kind == SigningKind.LINK_WALLET else "")
    return request, token


def signing_request_for_token(*, token: str) -> SigningRequest:
    """The request behind a link; expired ones are marked so on the way."""
    request = (SigningRequest.objects.select_related("user", "loan")
               .filter(token_hash=token_hash(token)).first())
    if request is None:
        raise SigningRequestError(_("This signing link does not exist."),
                                  code="unknown_token")
    if request.status == SigningStatus.PENDING and request.expires_at <= timezone.now():
        SigningRequest.objects.filter(pk=request.pk, status=SigningStatus.PENDING).update(
            status=SigningStatus.EXPIRED)
        request.refresh_from_db()
    return request


def _pending(request: SigningRequest) -> None:
    if request.status == SigningStatus.EXPIRED:
        raise SigningRequestError(_("This signing link has expired; ask the bot for a new "
                                    "one."), code="expired")
    if request.status != SigningStatus.PENDING:
        raise SigningRequestError(_("This signing link was already used."), code="used")


def _siwe_refusal(reason: str) -> str:
    """Why a signed sign-in message was refused, in the person's words."""
    return {
        "expired": _("The signed message has expired; ask the bot for a new link."),
        "not_yet_valid": _("The signed message is not valid yet; check your phone's clock."),
        "wrong_domain": _("The message was signed for another website."),
        "wrong_chain": _("The message was signed for another network."),
        "wrong_nonce": _("The signed message does not belong to this link."),
        "bad_signature": _("The signature does not match the wallet address."),
    }.get(reason, _("The signed message could not be read."))


def wallet_link_message(*, request: SigningRequest, address: str, domain: str,
                        uri: str) -> str:
    """The EIP-4361 message the connected wallet is asked to sign, bound to this request."""
    _pending(request)
    if request.kind != SigningKind.LINK_WALLET:
        raise SigningRequestError(_("This link is not for linking a wallet."))
    message = siwe.build_message(
        domain=domain, address=address, uri=uri, chain_id=request.chain_id,
        nonce=request.siwe_nonce, statement="Link this wallet to your Lendgram account.",
        ttl=max(request.expires_at - timezone.now(), timedelta(seconds=1)))
    text = message.text()
    SigningRequest.objects.filter(pk=request.pk).update(siwe_message=text)
    return text


@transaction.atomic
def wallet_link_verify(*, token: str, text: str, signature: str, domain: str) -> TelegramUser:
    """Verify the signed message once; then the address is the user's verified wallet."""
    request = signing_request_for_token(token=token)
    request = SigningRequest.objects.select_for_update().get(pk=request.pk)
    _pending(request)
    if request.kind != SigningKind.LINK_WALLET:
        raise SigningRequestError(_("This link is not for linking a wallet."))
    if text != request.siwe_message:
        raise SigningRequestError(_("The signed message is not the one we asked for."),
                                  code="altered")
    try:
        message = siwe.verify(text=text, signature=signature, domain=domain,
                              chain_id=request.chain_id, nonce=request.siwe_nonce)
    except siwe.SiweError as exc:
        raise SigningRequestError(_siwe_refusal(exc.reason), code=exc.reason) from exc
    user = user_link_wallet(user=request.user, address=message.address)
    now = timezone.now()
    SigningRequest.objects.filter(pk=request.pk).update(
        status=SigningStatus.CONFIRMED, submitted_at=now, confirmed_at=now)
    # The person signed on the page, away from the chat: the chat tells them it worked.
    notification_enqueue(recipient=user, template_key="wallet_linked",
                         dedupe_key=f"wallet_linked:{request.pk}",
                         params={"address": user.wallet_address,
                                 "is_borrower": user.is_borrower, "is_lender": user.is_lender})
    return user


def signing_request_report_txs(*, token: str, tx_hashes: list[str]) -> SigningRequest:
    """The page sent the transactions; the chain, through the indexer, will confirm them."""
    hashes = [h.lower() for h in tx_hashes]
    if not hashes or not all(_TX_HASH.match(h) for h in hashes):
        raise SigningRequestError(_("Transaction hashes are malformed."), code="bad_hashes")
    with transaction.atomic():
        request = signing_request_for_token(token=token)
        request = SigningRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == SigningStatus.SUBMITTED and request.tx_hashes == hashes:
            return request  # the page retried its report
        _pending(request)
        # A wallet link is proved by its signature, never by a transaction; a request has at
        # most one hash per transaction it asked for: a report can neither end a link request
        # nor pile up rows.
        if request.kind == SigningKind.LINK_WALLET:
            raise SigningRequestError(_("Transaction hashes are malformed."), code="wrong_kind")
        if len(hashes) > max(len(request.transactions), 1):
            raise SigningRequestError(_("Transaction hashes are malformed."), code="bad_hashes")
        request.status, request.tx_hashes = SigningStatus.SUBMITTED, hashes
        request.submitted_at = timezone.now()
        request.save(update_fields=["status", "tx_hashes", "submitted_at", "updated_at"])
        SubmittedTransaction.objects.bulk_create(
            SubmittedTransaction(request=request, tx_hash=h, position=i)
            for i, h in enumerate(hashes))
    return request


def signing_requests_confirm_tx(*, tx_hash: str, success: bool, reason: str = "",
                                sender: str | None = None) -> int:
    """The indexer saw tx_hash mined: confirm (or fail) the requests whose last tx it is.

    The page reports hashes, and anyone can copy a hash from the chain: given the mined
    transaction's `sender`, only requests that expected that sender are settled by it."""
    tx_hash = tx_hash.lower()
    updated = 0
    requests = SigningRequest.objects.filter(
        status=SigningStatus.SUBMITTED, submitted_transactions__tx_hash=tx_hash,
    ).select_related("user")
    for request in requests:
        if (sender is not None and request.expected_sender
                and request.expected_sender.lower() != sender.lower()):
            continue  # someone else's transaction, reported as this request's
        if success and request.tx_hashes[-1] != tx_hash:
            continue  # an earlier step (e.g. approve); the request confirms with its last tx
        if success:
            settled = SigningRequest.objects.filter(
                pk=request.pk, status=SigningStatus.SUBMITTED).update(
                status=SigningStatus.CONFIRMED, confirmed_at=timezone.now())
        else:
            settled = SigningRequest.objects.filter(
                pk=request.pk, status=SigningStatus.SUBMITTED).update(
                status=SigningStatus.FAILED, failure_reason=reason[:255] or "reverted")
        if settled and (not success or request.kind in CONFIRMATION_TOLD):
            _tell_settled(request, confirmed=success)
        updated += settled
    return updated


def _tell_settled(request: SigningRequest, *, confirmed: bool) -> None:
    """The person signed away from the chat: the chat says whether it went through. Once per
    request and outcome, even when a reorganisation makes the indexer confirm it again."""
    outcome = "confirmed" if confirmed else "failed"
    steps = [tx.get("step", "") for tx in request.transactions]
    notification_enqueue(
        recipient=request.user, template_key=f"signing_{outcome}",
        dedupe_key=f"signing:{request.pk}:{outcome}",
        params={"request_id": request.pk, "kind": request.kind, "step": steps[-1] if steps else "",
                "loan_id": request.loan_id, "amount": request.amount})


def signing_requests_expire(*, now=None) -> int:
    return SigningRequest.objects.filter(status=SigningStatus.PENDING,
                                         expires_at__lte=now or timezone.now()).update(
        status=SigningStatus.EXPIRED)


def signing_requests_unconfirm_tx(*, tx_hash: str) -> int:
    """A confirming transaction left the canonical chain: wait for it again."""
    return SigningRequest.objects.filter(
        status__in=[SigningStatus.CONFIRMED, SigningStatus.FAILED],
        submitted_transactions__tx_hash=tx_hash.lower()).update(
        status=SigningStatus.SUBMITTED, confirmed_at=None, failure_reason="")


def signing_requests_settle_failed(*, w3, limit: int = 200) -> int:
    """A reverted transaction emits no log, so the indexer never sees it: ask for receipts."""
    from web3.exceptions import TransactionNotFound

    failed = 0
    pending = SigningRequest.objects.filter(status=SigningStatus.SUBMITTED).order_by(
        "submitted_at")[:limit]
    for request in pending:
        for tx_hash in request.tx_hashes:
            try:
                receipt = w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                break  # not mined yet: the indexer or a later run settles it
            if receipt["status"] == 0:
                failed += signing_requests_confirm_tx(tx_hash=tx_hash, success=False,
                                                      reason="the transaction was reverted",
                                                      sender=receipt["from"])
                break
    return failed
