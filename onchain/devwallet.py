"""A development wallet: anvil's ten default accounts answering EIP-1193 requests.

DEV ONLY. The keys come from anvil's public "test test ... junk" mnemonic, so anyone can spend
from them; the caller (core.signing.devwallet) enables this only for the local chain 31337 in
DEBUG. Signing happens here; everything that only reads goes to the node unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from eth_account import Account
from eth_account.messages import encode_defunct
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError

ANVIL_CHAIN_ID = 31337
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10
# Methods a wallet answers without signing, passed through to the node (with any eth_get*).
READ_METHODS = frozenset({
    "eth_blockNumber", "eth_call", "eth_estimateGas", "eth_gasPrice", "eth_feeHistory",
    "eth_maxPriorityFeePerGas", "eth_blobBaseFee", "eth_newBlockFilter", "eth_newFilter",
    "eth_uninstallFilter", "eth_sendRawTransaction", "net_version", "web3_clientVersion",
})


class DevWalletError(Exception):
    """An EIP-1193 error: code 4001 rejected, 4100 unauthorised, 4200 unsupported, 4902 chain."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@cache
def dev_key(index: int) -> str:
    """Private key of anvil's default account `index` (0-9)."""
    if not 0 <= index < DEV_ACCOUNT_COUNT:
        raise DevWalletError(4100, f"dev account {index} is not one of anvil's 0-9")
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL_MNEMONIC,
                                 account_path=f"m/44'/60'/0'/0/{index}").key.to_0x_hex()


def dev_address(index: int) -> str:
    return Account.from_key(dev_key(index)).address


@dataclass
class DevWallet:
    """One dev account on one chain, answering what a browser wallet would."""

    w3: Web3
    index: int
    chain_id: int = ANVIL_CHAIN_ID

    @property
    def account(self):
        return Account.from_key(dev_key(self.index))

    def request(self, method: str, params: list):
        if method in {"eth_requestAccounts", "eth_accounts"}:
            return [self.account.address]
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "wallet_switchEthereumChain":
            wanted = int(str((params or [{}])[0].get("chainId", "0x0")), 16)
            if wanted != self.chain_id:
                raise DevWalletError(4902, f"the dev wallet only knows chain {self.chain_id}")
            return None
        if method == "wallet_addEthereumChain":
            return None
        if method == "personal_sign":
            self._check_sender(params[1])
            signed = Account.sign_message(encode_defunct(primitive=HexBytes(params[0])),
                                          self.account.key)
            return signed.signature.to_0x_hex()
        if method == "eth_sendTransaction":
            return self._send(params[0])
        if method in READ_METHODS or method.startswith("eth_get"):
            return _plain(self.w3.provider.make_request(method, params), method)
        raise DevWalletError(4200, f"the dev wallet does not support {method}")

    def _check_sender(self, address: str | None) -> None:
        if address and address.lower() != self.account.address.lower():
            raise DevWalletError(4100, f"{address} is not dev account {self.index}")

    def _send(self, tx: dict) -> str:
        self._check_sender(tx.get("from"))
        account = self.account
        call = {"from": account.address, "to": Web3.to_checksum_address(tx["to"]),
                "data": tx.get("data") or "0x", "value": int(str(tx.get("value") or "0x0"), 16)}
        try:
            gas = int(str(tx["gas"]), 16) if tx.get("gas") else (
                self.w3.eth.estimate_gas(call) * 13 // 10)
            signed = account.sign_transaction({
                **call, "gas": gas, "gasPrice": self.w3.eth.gas_price, "chainId": self.chain_id,
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending")})
            return self.w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()
        except (Web3RPCError, ValueError) as exc:  # a revert shows as the wallet's own error
            raise DevWalletError(-32000, str(exc)) from exc


def _plain(reply: dict, method: str):
    if "error" in reply:
        error = reply["error"]
        raise DevWalletError(int(error.get("code", -32000)), str(error.get("message", method)))
    return reply.get("result")
