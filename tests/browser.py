"""A real headless Chromium (Debian's) driven by Playwright, with an injected test wallet.

The wallet is an EIP-1193 provider whose every request goes to Python: accounts and signing
with eth-account, everything else forwarded to an anvil node when one is given.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hexbytes import HexBytes
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
INJECT = """
window.ethereum = {
  isMetaMask: true,
  request: async ({method, params}) => {
    const reply = JSON.parse(await window.__wallet(method, JSON.stringify(params || [])));
    if (reply.error) { const e = new Error(reply.error.message); e.code = reply.error.code;
                       throw e; }
    return reply.result;
  },
  on: () => {}, removeListener: () => {},
};
"""


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: Debian's chromium is not installed "
                        "(make setup installs it with apt when it can)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); "
                    "browser tests skipped")
    return path


class InjectedWallet:
    """An EIP-1193 wallet for one anvil account (or no chain, for signatures only)."""

    def __init__(self, private_key: str, *, chain_id: int, rpc_url: str | None = None) -> None:
        self.account = Account.from_key(private_key)
        self.chain_id = chain_id
        self.rpc_url = rpc_url
        self.calls: list[str] = []
        self.failures: list[str] = []

    def _rpc(self, method: str, params: list):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        request = urllib.request.Request(self.rpc_url, body.encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def handle(self, method: str, params_json: str) -> str:
        params = json.loads(params_json)
        self.calls.append(method)
        try:
            return json.dumps({"result": self._answer(method, params)})
        except WalletError as exc:
            return json.dumps({"error": {"code": exc.code, "message": str(exc)}})
        except Exception as exc:  # a bug here must show in the test, not as a vague JS error
            self.failures.append(f"{method}: {exc!r}")
            return json.dumps({"error": {"code": -32603, "message": f"test wallet: {exc!r}"}})

    def _answer(self, method: str, params: list):
        if method in {"eth_requestAccounts", "eth_accounts"}:
            return [self.account.address]
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method in {"wallet_switchEthereumChain", "wallet_addEthereumChain"}:
            return None
        if method == "personal_sign":
            message = HexBytes(params[0])
            return Account.sign_message(encode_defunct(primitive=message),
                                        self.account.key).signature.to_0x_hex()
        if method == "eth_sendTransaction":
            return self._send(params[0])
        if self.rpc_url is None:
            raise WalletError(4200, f"{method} is not supported without a chain")
        reply = self._rpc(method, params)
        if "error" in reply:
            raise WalletError(reply["error"].get("code", -32000), reply["error"]["message"])
        return reply["result"]

    def _send(self, tx: dict) -> str:
        nonce = int(self._rpc("eth_getTransactionCount", [self.account.address, "pending"])
                    ["result"], 16)
        gas_price = int(self._rpc("eth_gasPrice", [])["result"], 16)
        call = {"from": self.account.address, "to": tx["to"], "data": tx.get("data", "0x"),
                "value": tx.get("value", "0x0")}
        estimate = self._rpc("eth_estimateGas", [call])
        if "error" in estimate:
            raise WalletError(-32000, estimate["error"]["message"])
        signed = self.account.sign_transaction({
            "to": Web3.to_checksum_address(tx["to"]), "data": tx.get("data", "0x"),
            "value": int(tx.get("value", "0x0"), 16), "nonce": nonce,
            "gas": int(estimate["result"], 16) * 13 // 10, "gasPrice": gas_price,
            "chainId": self.chain_id})
        reply = self._rpc("eth_sendRawTransaction", [signed.raw_transaction.to_0x_hex()])
        if "error" in reply:
            raise WalletError(-32000, reply["error"]["message"])
        return reply["result"]


class WalletError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@pytest.fixture
def browser_page():
    """A fresh page in headless Chromium; console errors are collected in page.errors."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM would refuse it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 412, "height": 860})
        page.errors = []
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        try:
            yield page
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def attach_wallet(page, wallet: InjectedWallet) -> None:
    page.expose_function("__wallet", wallet.handle)
    page.add_init_script(INJECT)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
