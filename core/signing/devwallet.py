"""The dev wallet endpoint: the signing page's devwallet.js sends its EIP-1193 requests here,
and anvil's default account the person picked (0-9) answers them.

DEV ONLY: those keys are public. It exists only while DEBUG is on and the configured chain is
the local anvil chain (31337); anywhere else every request is a 404, as if it did not exist.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse

from core.common.chain import web3_client
from onchain.devwallet import (
    ANVIL_CHAIN_ID,
    DEV_ACCOUNT_COUNT,
    DevWallet,
    DevWalletError,
    dev_address,
)

PLATFORM_ROLES = {0: "deployer", 1: "underwriter", 2: "scorer", 3: "treasury", 4: "keeper"}


def dev_wallet_enabled() -> bool:
    return bool(settings.DEBUG) and settings.CHAIN_ID == ANVIL_CHAIN_ID


def dev_accounts() -> list[dict]:
    """The accounts a person may sign with; 0-4 also act for the platform on the dev chain."""
    if not dev_wallet_enabled():
        return []
    return [{"index": index, "address": dev_address(index),
             "role": PLATFORM_ROLES.get(index, "")} for index in range(DEV_ACCOUNT_COUNT)]


def dev_wallet_rpc(request: HttpRequest) -> HttpResponse:
    # The 404 comes before the method check: off DEBUG a GET must not answer 405 either.
    if not dev_wallet_enabled():
        raise Http404("The dev wallet exists only in DEBUG on the local chain.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        body = json.loads(request.body or b"{}")
        index, method = int(body["account"]), str(body["method"])
        params = body.get("params") or []
        if not isinstance(params, list):
            raise ValueError("params must be a list")
    except (ValueError, KeyError, TypeError) as exc:
        return JsonResponse({"error": {"code": -32600, "message": f"bad request: {exc}"}},
                            status=400)
    try:
        wallet = DevWallet(w3=web3_client(), index=index, chain_id=settings.CHAIN_ID)
        return JsonResponse({"result": wallet.request(method, params)})
    except DevWalletError as exc:
        return JsonResponse({"error": {"code": exc.code, "message": str(exc)}})
