"""Reads for signing requests: the page's context and the LoanBook's smallest ticket."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.chain import TRANSIENT_RPC_ERRORS, current_deployment, web3_client
from core.signing.models import SigningKind, SigningRequest, SigningStatus

MIN_TICKET_CACHE_S = 300
# The LoanBook's constructor default, used only while the node cannot be asked.
DEFAULT_MIN_TICKET = 10 * 10**6


def loan_book_min_ticket() -> int:
    """The smallest partial funding the LoanBook accepts (admins can change it on chain)."""
    key = f"loanbook:min_ticket:{settings.CHAIN_ID}"
    cached = cache.get(key)
    if cached is not None:
        return int(cached)
    try:
        ticket = int(current_deployment().contract("LoanBook", web3_client())
                     .functions.minTicket().call())
    except TRANSIENT_RPC_ERRORS:
        return DEFAULT_MIN_TICKET
    cache.set(key, ticket, MIN_TICKET_CACHE_S)
    return ticket


def signing_page_context(*, signing: SigningRequest, token: str) -> dict:
    chain = settings.CHAIN
    usable = signing.status == SigningStatus.PENDING and signing.expires_at > timezone.now()
    return {
        "signing": signing,
        "usable": usable,
        "is_link": signing.kind == SigningKind.LINK_WALLET,
        "steps": [step.get("label", "") for step in signing.transactions],
        "client_text": _client_text(),
        "client_config": {
            "token": token,
            "kind": signing.kind,
            "status": signing.status,
            "chain": {
                "chainId": hex(chain.chain_id),
                "chainName": chain.name,
                "rpcUrls": [chain.rpc_url],
                "nativeCurrency": {"name": chain.native_currency,
                                   "symbol": chain.native_currency, "decimals": 18},
                "blockExplorerUrls": [chain.explorer_url] if chain.explorer_url else [],
            },
            "expectedSender": signing.expected_sender,
            "transactions": [{"to": step["to"], "data": step["data"],
                              "value": hex(int(step.get("value", 0)))}
                             for step in signing.transactions],
        },
    }


def _client_text() -> dict[str, str]:
    """What the page's script says, translated here so quotes can never break its JSON."""
    return {
        "noWallet": _("No wallet found in this browser. Open this link from your wallet app "
                      "(MetaMask, Trust Wallet or Coinbase Wallet)."),
        "wrongAccount": _("This wallet is not the one linked to your account. Switch to it "
                          "and try again:"),
        "switching": _("Switching your wallet to the right network…"),
        "signing": _("Waiting for your signature…"),
        "sending": _("Step %(n)s of %(total)s: confirm it in your wallet…"),
        "mining": _("Step %(n)s of %(total)s sent, waiting for the block…"),
        "reverted": _("The transaction was rejected by the chain."),
        "rejected": _("You cancelled in your wallet. Nothing was sent."),
        "linked": _("Your wallet is linked. You can go back to Telegram."),
        "submitted": _("Sent. Waiting for the chain to confirm."),
        "confirmed": _("Done. You can go back to Telegram."),
        "failed": _("Something went wrong:"),
    }
