"""The signing page: shows what will be signed and hands it to the user's wallet.

The page only relays; the chain is the proof. Transactions are confirmed by the indexer,
wallet links by verifying the EIP-4361 signature here.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from core.signing import services
from core.signing.devwallet import dev_accounts, dev_wallet_enabled
from core.signing.models import SigningStatus
from core.signing.selectors import signing_page_context


def _domain() -> str:
    return urlsplit(settings.PUBLIC_BASE_URL).netloc


def _error(exc: services.SigningRequestError) -> JsonResponse:
    # A link that does not exist is a 404 on every route under it, as the page itself is.
    status = 404 if exc.code == "unknown_token" else 400
    return JsonResponse({"ok": False, "code": exc.code, "error": str(exc)}, status=status)


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@require_GET
@ensure_csrf_cookie
def signing_page(request: HttpRequest, token: str):
    try:
        signing = services.signing_request_for_token(token=token)
    except services.SigningRequestError as exc:
        return render(request, "signing/signing_missing.html", {"reason": str(exc)}, status=404)
    with translation.override(signing.user.language):
        context = signing_page_context(signing=signing, token=token)
        context.update(_wallet_options())
        context["client_config"] = {**context["client_config"],
                                    "walletConnect": context["walletconnect"]}
        response = render(request, "signing/signing.html", context)
    if context["walletconnect"]:
        # WalletConnect's relay, its verify frame and the wallets' pictures in its modal.
        response._csp_update = settings.WALLETCONNECT_CSP
    return response


def _wallet_options() -> dict:
    """Which wallets the page offers besides the browser's own: WalletConnect when a project
    id is configured, and anvil's dev accounts in DEBUG on the local chain only."""
    project_id = settings.WALLETCONNECT_PROJECT_ID
    options = {"walletconnect": {"projectId": project_id} if project_id else None,
               "devwallet": None}
    if dev_wallet_enabled():
        options["devwallet"] = {"endpoint": reverse("signing:dev_wallet_rpc"),
                                "accounts": dev_accounts()}
    return options


@require_GET
def signing_status(request: HttpRequest, token: str) -> JsonResponse:
    try:
        signing = services.signing_request_for_token(token=token)
    except services.SigningRequestError as exc:
        return _error(exc)
    return JsonResponse({"ok": True, "status": signing.status, "tx_hashes": signing.tx_hashes,
                         "failure_reason": signing.failure_reason})


@require_POST
def link_message(request: HttpRequest, token: str) -> JsonResponse:
    address = str(_body(request).get("address", ""))
    try:
        signing = services.signing_request_for_token(token=token)
        text = services.wallet_link_message(
            request=signing, address=address, domain=_domain(),
            uri=f"{settings.PUBLIC_BASE_URL}/s/{token}/")
    except services.SigningRequestError as exc:
        return _error(exc)
    except ValueError:
        return JsonResponse({"ok": False, "code": "bad_address",
                             "error": _("The wallet address is not valid.")}, status=400)
    return JsonResponse({"ok": True, "message": text})


@require_POST
def link_verify(request: HttpRequest, token: str) -> JsonResponse:
    body = _body(request)
    try:
        user = services.wallet_link_verify(token=token, text=str(body.get("message", "")),
                                           signature=str(body.get("signature", "")),
                                           domain=_domain())
    except services.SigningRequestError as exc:
        return _error(exc)
    return JsonResponse({"ok": True, "status": SigningStatus.CONFIRMED,
                         "address": user.wallet_address})


@require_POST
def report_transactions(request: HttpRequest, token: str) -> JsonResponse:
    hashes = _body(request).get("tx_hashes")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        return JsonResponse({"ok": False, "code": "bad_hashes",
                             "error": _("Transaction hashes are malformed.")}, status=400)
    try:
        signing = services.signing_request_report_txs(token=token, tx_hashes=hashes)
    except services.SigningRequestError as exc:
        return _error(exc)
    return JsonResponse({"ok": True, "status": signing.status})
