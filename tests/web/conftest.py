from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest


@contextmanager
def node_out_of_reach(settings, cache_location: str) -> Iterator[None]:
    """The app's node cannot be reached, and the cache is the caller's own, so a pool figure
    another test read from a live chain is not served."""
    from django.core.cache import cache

    from core.common import chain as rpc

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": cache_location}}
    cache.clear()
    settings.RPC_URL = "http://127.0.0.1:9"
    rpc._web3.cache_clear()
    yield
    rpc._web3.cache_clear()


@pytest.fixture(autouse=True)
def chain_out_of_reach(settings):
    """Pages must render when the node cannot be reached; tests that want a chain use the
    `chain` fixture, which points the app at its own anvil."""
    with node_out_of_reach(settings, "tests-web"):
        yield


@pytest.fixture
def signed_in(client):
    """Sign a person in through a one-time login link, as the bot's /me does."""
    from core.web.services import login_link_create

    def sign_in(user):
        url = login_link_create(user=user)
        response = client.get(urlsplit(url).path)
        assert response.status_code == 302
        return client

    return sign_in
