"""A test wallet that follows the signing links the bot sends, as a phone wallet would.

The bot's signing message carries the page `/s/<token>/` in its buttons. The wallet opens that
page and either signs the EIP-4361 message (wallet linking) or sends the request's
transactions from its own account and reports them to the page; then the indexer runs, so
whatever the chain did is applied (and notified) before the test looks.
"""

from __future__ import annotations

import json
import re

from asgiref.sync import sync_to_async
from django.test import Client
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from core.signing.models import SigningKind, SigningRequest
from core.signing.services import signing_request_for_token
from tests.chain import Chain

_PAGE = re.compile(r"/s/([A-Za-z0-9_-]+)/$")


def signing_token(messages: dict | list[dict]) -> str:
    """The token of the signing page linked from the buttons of a bot message (or of the
    first message in a list that has one)."""
    for message in messages if isinstance(messages, list) else [messages]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in (button for row in rows for button in row):
            found = _PAGE.search(button.get("url") or "")
            if found:
                return found.group(1)
    raise AssertionError("no signing page link in these messages")


def _post(client: Client, path: str, body: dict) -> dict:
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    answer = response.json()
    assert response.status_code == 200 and answer["ok"], answer
    return answer


def follow_signing_token(chain: Chain | None, key: str, token: str) -> SigningRequest:
    """Open the signing page for `token` and do what it asks with the wallet of `key`."""
    client = Client()
    page = client.get(f"/s/{token}/")
    assert page.status_code == 200, page.content[:500]
    request = signing_request_for_token(token=token)
    if request.kind == SigningKind.LINK_WALLET:
        address = Account.from_key(key).address
        text = _post(client, f"/s/{token}/message", {"address": address})["message"]
        signature = Account.sign_message(encode_defunct(text=text), key).signature.to_0x_hex()
        _post(client, f"/s/{token}/verify", {"message": text, "signature": signature})
    else:
        assert chain is not None, "sending transactions needs the chain fixture"
        receipts = chain.send_request(key, request.transactions)
        _post(client, f"/s/{token}/submitted",
              {"tx_hashes": [Web3.to_hex(r["transactionHash"]) for r in receipts]})
        chain.sync()
    request.refresh_from_db()
    return request


def follow_signing_link_sync(chain: Chain | None, key: str,
                             messages: dict | list[dict]) -> SigningRequest:
    return follow_signing_token(chain, key, signing_token(messages))


async def follow_signing_link(chain: Chain | None, key: str,
                              messages: dict | list[dict]) -> SigningRequest:
    """From a test scenario (async): find the signing link in the bot's message(s), sign it
    with `key` (link the wallet, or send the transactions and index them), and return the
    request as it stands afterwards (CONFIRMED once the chain or the signature proved it).

    `chain` may be None for wallet linking, which touches no chain."""
    return await sync_to_async(follow_signing_link_sync)(chain, key, messages)


async def deliver_outbox(chat) -> int:
    """Deliver every queued notification through the bot, as the outbox loop would."""
    from bot.outbox import deliver_outbox_once

    delivered = 0
    while sent := await deliver_outbox_once(chat.runtime.bot):
        delivered += sent
    return delivered


__all__ = ["deliver_outbox", "follow_signing_link", "follow_signing_link_sync",
           "follow_signing_token", "signing_token"]
