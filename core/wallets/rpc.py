"""The one adapter to the chain's JSON-RPC node for the Django side, with its error taxonomy."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import requests
from django.conf import settings
from web3 import Web3
from web3.exceptions import TimeExhausted, Web3RPCError

from onchain.contracts import Deployment

# A node that is down, slow or overloaded: try again later; nothing was lost.
TRANSIENT_RPC_ERRORS = (requests.ConnectionError, requests.Timeout, TimeExhausted,
                        Web3RPCError, OSError)


@cache
def _web3(rpc_url: str) -> Web3:
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))


def web3_client() -> Web3:
    return _web3(settings.RPC_URL)


@cache
def _deployment(chain_id: int, path: str) -> Deployment:
    return Deployment.for_chain(chain_id, path=Path(path))


def current_deployment() -> Deployment:
    """The configured chain's contracts; addresses are read once per process and settings."""
    return _deployment(settings.CHAIN_ID, str(settings.ONCHAIN_ADDRESSES_FILE))


MIN_TICKET_CACHE_S = 300
# The LoanBook's constructor default, used only while the node cannot be asked.
DEFAULT_MIN_TICKET = 10 * 10**6


def loan_book_min_ticket() -> int:
    """The smallest partial funding the LoanBook accepts (admins can change it on chain)."""
    from django.core.cache import cache

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
