"""A real anvil for the test session, with the contracts deployed, and test wallets.

It is this package's __init__ (the tests of core/chain sit beside it) so that `tests.chain`, the
name every on-chain test and conftest's plugin list import, stays what it was.

The suite starts its own anvil on a free port; addresses and ABIs of that deployment go to a
temporary folder so the committed onchain/addresses.json is never touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from onchain.contracts import Deployment
from onchain.transactions import UnsignedTx

Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"


def dev_key(index: int) -> str:
    """Private key of anvil's default account `index` (public dev keys: never real money)."""
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.to_0x_hex()


@dataclass
class Chain:
    rpc_url: str
    w3: Web3
    deployment: Deployment
    addresses_file: Path

    def send_request(self, key: str, transactions: list[dict]) -> list[dict]:
        """Send a signing request's stored transactions, as the signing page does."""
        return self.send(key, [UnsignedTx(to=t["to"], data=t["data"], step=t["step"],
                                          value=int(t.get("value", 0))) for t in transactions])

    def sign(self, key: str, created: tuple) -> object:
        """Sign a (request, token) pair from a wallet action and report it, as the page does."""
        from core.signing.services import signing_request_report_txs

        request, token = created
        receipts = self.send_request(key, request.transactions)
        signing_request_report_txs(token=token, tx_hashes=[Web3.to_hex(r["transactionHash"])
                                                           for r in receipts])
        return request

    def sync(self):
        """Run the indexer over everything mined so far."""
        from core.chain.chain_sync import chain_sync

        return chain_sync(w3=self.w3, deployment=self.deployment, confirmations=0,
                          batch_blocks=50)

    def balance(self, address: str) -> int:
        return self.deployment.contract("MockStable", self.w3).functions.balanceOf(
            address).call()

    def send(self, key: str, steps: list[UnsignedTx]) -> list[dict]:
        """Sign and send each step in order, as a wallet would; returns the receipts."""
        account = Account.from_key(key)
        receipts = []
        for step in steps:
            tx = {"from": account.address, "to": step.to, "data": step.data, "value": step.value,
                  "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                  "chainId": self.w3.eth.chain_id, "gasPrice": self.w3.eth.gas_price}
            tx["gas"] = self.w3.eth.estimate_gas(tx) * 13 // 10
            tx_hash = self.w3.eth.send_raw_transaction(
                account.sign_transaction(tx).raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
            assert receipt["status"] == 1, f"{step.step} reverted"
            receipts.append(receipt)
        return receipts

    def faucet(self, key: str, amount: int) -> None:
        """Give an account gas money (anvil funds only its first ten) and stable tokens."""
        address = Account.from_key(key).address
        if self.w3.eth.get_balance(address) < 10**18:
            self.w3.provider.make_request("anvil_setBalance", [address, hex(10**20)])
        stable = self.deployment.contract("MockStable")
        self.send(key, [UnsignedTx(to=stable.address, step="faucet",
                                   data=stable.encode_abi("faucet", args=[amount]))])

    def mine_after(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    from onchain.deploy import deploy
    from onchain.devchain import DevChain, DevChainError, anvil_path

    if not anvil_path().exists():
        message = f"anvil is not installed at {anvil_path()} (make setup installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("chain")
    try:
        dev_chain = DevChain.start()
    except DevChainError as exc:
        pytest.fail(str(exc))
    try:
        deploy(dev_chain.rpc_url, addresses_file=folder / "addresses.json",
               abi_dir=folder / "abi")
        w3 = Web3(Web3.HTTPProvider(dev_chain.rpc_url))
        yield Chain(rpc_url=dev_chain.rpc_url, w3=w3, addresses_file=folder / "addresses.json",
                    deployment=Deployment.for_chain(31337, path=folder / "addresses.json"))
    finally:
        dev_chain.stop()


def people_on_chain(chain: Chain, settings, keys: dict[str, str], *, first_telegram_id: int,
                    suffix: str, tokens: int) -> dict:
    """Point the app at the test chain, index only what happens from now on (each test's
    database starts empty), give every wallet `tokens` base units, and give alice (a borrower),
    bob and charlie (lenders) accounts linked to their wallets."""
    from core.chain.models import ChainCursor
    from tests import factories

    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    for key in keys.values():
        chain.faucet(key, tokens)
    people = {}
    for offset, name in enumerate(("alice", "bob", "charlie")):
        make = factories.borrower if name == "alice" else factories.lender
        people[name] = make(telegram_id=first_telegram_id + offset, username=f"{name}_{suffix}",
                            wallet=Account.from_key(keys[name]).address)
    return people
