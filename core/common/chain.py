"""The one adapter to the chain's JSON-RPC node for the Django side, with its error taxonomy.

Core reads the chain through web3_client() and current_deployment(). Code that reads the chain
on behalf of a face (a chat, a page, an admin) raises core's own errors, ChainUnavailable and
DeploymentMissing, so nothing above core needs to know web3's or onchain's exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from web3 import Web3
from web3.exceptions import TimeExhausted, Web3Exception, Web3RPCError

from core.common.errors import ServiceError
from onchain import contracts
from onchain.contracts import Deployment


class ChainError(ServiceError):
    """The chain could not answer what core asked; the message is safe to show."""

    code = "chain_error"


class ChainUnavailable(ChainError):
    """The node is down, slow or refused the call: try again later, nothing was lost."""

    code = "chain_unavailable"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or _("The chain cannot be reached right now. Please try "
                                      "again in a minute."), code=code)


class DeploymentMissing(ChainError, contracts.DeploymentMissing):
    """No contract addresses are known for the configured chain (deploy first). It is also
    onchain's DeploymentMissing, so code that catches that one keeps working."""

    code = "deployment_missing"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or _("Lendgram's contracts are not deployed on this network."),
                         code=code)


# A node that is down, slow or overloaded: try again later; nothing was lost. Tasks retry on
# these (ChainUnavailable is core's own wrapping of the others).
TRANSIENT_RPC_ERRORS = (requests.ConnectionError, requests.Timeout, TimeExhausted,
                        Web3RPCError, OSError, ChainUnavailable)


@cache
def _web3(rpc_url: str) -> Web3:
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))


def web3_client() -> Web3:
    return _web3(settings.RPC_URL)


@cache
def _deployment(chain_id: int, path: str) -> Deployment:
    return Deployment.for_chain(chain_id, path=Path(path))


def current_deployment() -> Deployment:
    """The configured chain's contracts; addresses are read once per process and settings.
    Raises DeploymentMissing when none are known."""
    try:
        return _deployment(settings.CHAIN_ID, str(settings.ONCHAIN_ADDRESSES_FILE))
    except contracts.DeploymentMissing as exc:
        if isinstance(exc, DeploymentMissing):
            raise
        raise DeploymentMissing() from exc


@contextmanager
def chain_reads() -> Iterator[None]:
    """Reads of the chain inside raise ChainUnavailable (or DeploymentMissing), never web3's
    errors. Usable as a decorator too: @chain_reads()."""
    try:
        yield
    except ChainError:
        raise
    except (*TRANSIENT_RPC_ERRORS, Web3Exception, ValueError) as exc:
        # ValueError: web3 rejects a malformed answer or address this way.
        raise ChainUnavailable() from exc
