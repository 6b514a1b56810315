"""Links that open a page or a call in the user's phone wallet, and QR codes of them.

Universal https links are used because custom schemes (metamask://) fail inside Telegram's
in-app browser.
"""

from __future__ import annotations

import io
from urllib.parse import quote, urlsplit

import qrcode
from eth_utils import to_checksum_address
from qrcode.constants import ERROR_CORRECT_M


def metamask_link(page_url: str) -> str:
    """Opens page_url in MetaMask Mobile's in-app browser."""
    parts = urlsplit(page_url)
    rest = parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return f"https://link.metamask.io/dapp/{rest}"


def trust_wallet_link(page_url: str, *, coin_id: int = 60) -> str:
    return f"https://link.trustwallet.com/open_url?coin_id={coin_id}&url={quote(page_url, safe='')}"


def coinbase_wallet_link(page_url: str) -> str:
    return f"https://go.cb-w.com/dapp?cb_url={quote(page_url, safe='')}"


def wallet_links(page_url: str) -> dict[str, str]:
    """Every wallet's link to the same signing page, keyed by wallet."""
    return {"metamask": metamask_link(page_url), "trust": trust_wallet_link(page_url),
            "coinbase": coinbase_wallet_link(page_url)}


def eip681_call(*, contract: str, chain_id: int, function: str,
                args: list[tuple[str, int | str]]) -> str:
    """An EIP-681 URI for one contract call, e.g. repay(uint256 loanId, uint256 amount)."""
    params = "&".join(f"{type_}={value}" for type_, value in args)
    uri = f"ethereum:{to_checksum_address(contract)}@{chain_id}/{function}"
    return f"{uri}?{params}" if params else uri


def qr_png(data: str, *, box_size: int = 8, border: int = 2) -> bytes:
    """A PNG of a QR code for data (a signing page URL or an EIP-681 URI)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()
