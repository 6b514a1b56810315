"""Where a signing request can be opened: the page, each phone wallet, and EIP-681.

The bot shows these as buttons and a QR code; the web pages and admin reuse them. The raw
token exists only at creation time (the database keeps its hash), so links are built then.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from core.common.chain import current_deployment
from core.signing.models import SigningRequest
from onchain.deeplinks import eip681_call, qr_png, wallet_links

# EIP-681 carries typed arguments as plain text: only these ABI types are written out.
_EIP681_TYPES = ("uint", "int", "address", "bool")


@dataclass(frozen=True)
class SigningLinks:
    page: str
    wallets: dict[str, str]  # metamask / trust / coinbase universal links to the page
    eip681: str | None  # one contract call a wallet can run directly, or None

    def qr_png(self) -> bytes:
        """A QR code of the page, for a desktop user's phone camera."""
        return qr_png(self.page)


def signing_page_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/s/{token}/"


def _single_call_uri(request: SigningRequest) -> str | None:
    """An EIP-681 URI when the request is exactly one call with simple arguments."""
    if len(request.transactions) != 1 or int(request.transactions[0].get("value") or 0):
        return None
    tx = request.transactions[0]
    deployment = current_deployment()
    for name in ("LoanBook", "LiquidityBackstopPool", "MockStable"):
        contract = deployment.contract(name)
        if contract.address.lower() != str(tx["to"]).lower():
            continue
        function, args = contract.decode_function_input(tx["data"])
        inputs = function.abi["inputs"]
        if not all(arg["type"].startswith(_EIP681_TYPES) and not arg["type"].endswith("]")
                   for arg in inputs):
            return None
        return eip681_call(contract=contract.address, chain_id=request.chain_id,
                           function=function.fn_name,
                           args=[(arg["type"], args[arg["name"]]) for arg in inputs])
    return None


def signing_links(*, request: SigningRequest, token: str) -> SigningLinks:
    page = signing_page_url(token)
    return SigningLinks(page=page, wallets=wallet_links(page),
                        eip681=_single_call_uri(request))
