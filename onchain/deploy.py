"""Deploy Lendgram's contracts from forge's artifacts and export their ABIs.

``deploy(rpc_url)`` deploys MockStable (or uses ``STABLE_ADDRESS``), ScoreRegistry,
LiquidityBackstopPool and LoanBook, wires them (the pool knows its LoanBook, the underwriter and
scorer get their roles), writes ``onchain/addresses.json`` (merged per chain id) and the ABIs to
``onchain/abi/``. On a fresh anvil the addresses are always the same, so the committed
addresses.json stays stable.

    python -m onchain.deploy --rpc-url http://127.0.0.1:8545   # idempotent
    python -m onchain.deploy --abi-only                        # make sync-abi

Keys and roles come from the environment; unset, they default to anvil's well-known dev accounts
(public knowledge, DEV ONLY: never fund them on a real network):
``DEPLOYER_PRIVATE_KEY`` (admin and pauser), ``UNDERWRITER_ADDRESS``, ``SCORER_ADDRESS``,
``TREASURY_ADDRESS``; ``STABLE_ADDRESS`` uses an existing stable token instead of MockStable
(recorded as "Stable" instead of "MockStable").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from onchain.networks import PRESETS

ONCHAIN_DIR = Path(__file__).resolve().parent
CONTRACTS_DIR = ONCHAIN_DIR.parent / "contracts"
ARTIFACTS_DIR = CONTRACTS_DIR / "out"
ABI_DIR = ONCHAIN_DIR / "abi"
ADDRESSES_FILE = ONCHAIN_DIR / "addresses.json"

CONTRACTS = ("MockStable", "ScoreRegistry", "LiquidityBackstopPool", "LoanBook")


@dataclass(frozen=True)
class DevAccount:
    """One of anvil's default-mnemonic accounts. DEV ONLY: these keys are public."""

    role: str
    address: str
    private_key: str


# anvil's "test test ... junk" mnemonic, accounts 0-4. DEV ONLY.
DEV_ACCOUNTS: tuple[DevAccount, ...] = (
    DevAccount(
        "deployer",
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    ),
    DevAccount(
        "underwriter",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    ),
    DevAccount(
        "scorer",
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    ),
    DevAccount(
        "treasury",
        "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    ),
    DevAccount(
        "keeper",
        "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
        "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    ),
)
DEV = {account.role: account for account in DEV_ACCOUNTS}


class DeployError(RuntimeError):
    """Artifacts missing, a transaction reverted, or the configuration is unusable."""


@dataclass(frozen=True)
class DeployConfig:
    deployer_key: str
    underwriter: str
    scorer: str
    treasury: str
    stable: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DeployConfig:
        env = os.environ if environ is None else environ
        stable = env.get("STABLE_ADDRESS") or None
        return cls(
            deployer_key=env.get("DEPLOYER_PRIVATE_KEY") or DEV["deployer"].private_key,
            underwriter=Web3.to_checksum_address(
                env.get("UNDERWRITER_ADDRESS") or DEV["underwriter"].address
            ),
            scorer=Web3.to_checksum_address(env.get("SCORER_ADDRESS") or DEV["scorer"].address),
            treasury=Web3.to_checksum_address(
                env.get("TREASURY_ADDRESS") or DEV["treasury"].address
            ),
            stable=Web3.to_checksum_address(stable) if stable else None,
        )


# ---------------------------------------------------------------- artifacts and ABIs


def artifact(name: str) -> dict[str, Any]:
    """forge's artifact for contract ``name`` (``contracts/out/<name>.sol/<name>.json``)."""
    path = ARTIFACTS_DIR / f"{name}.sol" / f"{name}.json"
    if not path.exists():
        raise DeployError(f"{path} missing: run `npm run build` in {CONTRACTS_DIR}")
    return json.loads(path.read_text())


def ensure_built() -> None:
    """Build the contracts with forge when their artifacts are missing."""
    if all((ARTIFACTS_DIR / f"{name}.sol" / f"{name}.json").exists() for name in CONTRACTS):
        return
    subprocess.run(["npm", "run", "build"], cwd=CONTRACTS_DIR, check=True)  # noqa: S607


def export_abis(abi_dir: Path = ABI_DIR) -> list[Path]:
    """Write each contract's ABI, pretty-printed with sorted keys, to ``abi_dir/<name>.json``."""
    abi_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CONTRACTS:
        path = abi_dir / f"{name}.json"
        path.write_text(json.dumps(artifact(name)["abi"], indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


# ---------------------------------------------------------------- addresses.json


def read_addresses(path: Path = ADDRESSES_FILE) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_addresses(chain_id: int, entry: dict[str, Any], path: Path = ADDRESSES_FILE) -> None:
    """Replace the entry of ``chain_id`` and keep the others."""
    addresses = read_addresses(path)
    addresses[str(chain_id)] = entry
    ordered = {key: addresses[key] for key in sorted(addresses, key=int)}
    path.write_text(json.dumps(ordered, indent=2) + "\n")


def deployed_entry(w3: Web3, path: Path = ADDRESSES_FILE) -> dict[str, Any] | None:
    """The recorded deployment for this chain if every contract in it has code there."""
    entry = read_addresses(path).get(str(w3.eth.chain_id))
    if not entry:
        return None
    contracts = [value for key, value in entry.items() if key != "deployed_block"]
    if contracts and all(w3.eth.get_code(Web3.to_checksum_address(a)) for a in contracts):
        return entry
    return None


# ---------------------------------------------------------------- deployment


class _Sender:
    """Signs and sends the deployer's transactions one by one, waiting for each receipt."""

    def __init__(self, w3: Web3, private_key: str) -> None:
        self.w3 = w3
        self.account = Account.from_key(private_key)
        self.nonce = w3.eth.get_transaction_count(self.account.address, "pending")
        self.blocks: list[int] = []

    def send(self, tx: dict[str, Any], what: str) -> Any:
        tx = {
            **tx,
            "from": self.account.address,
            "nonce": self.nonce,
            "chainId": self.w3.eth.chain_id,
        }
        if "gas" not in tx:
            tx["gas"] = self.w3.eth.estimate_gas(tx) * 12 // 10
        signed = self.account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        self.nonce += 1
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise DeployError(f"{what} reverted (tx {tx_hash.to_0x_hex()})")
        self.blocks.append(receipt["blockNumber"])
        return receipt

    def deploy(self, name: str, *args: Any) -> str:
        art = artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]["object"])
        tx = factory.constructor(*args).build_transaction({"from": self.account.address})
        tx.pop("nonce", None)
        receipt = self.send(tx, f"deploying {name}")
        return receipt["contractAddress"]

    def call(self, address: str, name: str, fn: str, *args: Any) -> None:
        contract = self.w3.eth.contract(address=address, abi=artifact(name)["abi"])
        tx = getattr(contract.functions, fn)(*args).build_transaction(
            {"from": self.account.address}
        )
        tx.pop("nonce", None)
        self.send(tx, f"{name}.{fn}")


def _role(name: str) -> bytes:
    return Web3.keccak(text=name)


def deploy(
    rpc_url: str,
    config: DeployConfig | None = None,
    *,
    addresses_file: Path = ADDRESSES_FILE,
    abi_dir: Path = ABI_DIR,
    force: bool = False,
) -> dict[str, Any]:
    """Deploy and wire the contracts on the chain at ``rpc_url``; return the addresses entry.

    Idempotent: when ``addresses_file`` already records contracts with code on this chain, nothing
    is sent and that entry is returned (``force`` deploys anyway).
    """
    config = config or DeployConfig.from_env()
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    if not w3.is_connected():
        raise DeployError(f"no JSON-RPC node answers at {rpc_url}")
    chain_id = w3.eth.chain_id
    export_abis(abi_dir)
    if not force:
        existing = deployed_entry(w3, addresses_file)
        if existing is not None:
            return existing

    network = PRESETS.get(chain_id)
    if config.stable is None and not (network and network.mock_stable_allowed):
        raise DeployError(f"chain {chain_id} needs STABLE_ADDRESS: MockStable is for test chains")

    sender = _Sender(w3, config.deployer_key)
    admin = sender.account.address
    entry: dict[str, Any] = {}
    if config.stable is None:
        stable = sender.deploy("MockStable", admin)
        entry["MockStable"] = stable
    else:
        stable = config.stable
        entry["Stable"] = stable
    registry = sender.deploy("ScoreRegistry", admin)
    pool = sender.deploy("LiquidityBackstopPool", stable, admin)
    loan_book = sender.deploy("LoanBook", stable, admin, config.treasury, pool)
    sender.call(pool, "LiquidityBackstopPool", "setLoanBook", loan_book)
    sender.call(loan_book, "LoanBook", "grantRole", _role("UNDERWRITER_ROLE"), config.underwriter)
    sender.call(registry, "ScoreRegistry", "grantRole", _role("SCORER_ROLE"), config.scorer)

    entry.update(
        {
            "ScoreRegistry": registry,
            "LiquidityBackstopPool": pool,
            "LoanBook": loan_book,
            "deployed_block": min(sender.blocks),
        }
    )
    write_addresses(chain_id, entry, addresses_file)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy Lendgram's contracts / export ABIs.")
    parser.add_argument("--rpc-url", default=os.environ.get("RPC_URL"))
    parser.add_argument("--abi-only", action="store_true", help="only write onchain/abi/*.json")
    parser.add_argument("--force", action="store_true", help="deploy even if already deployed")
    args = parser.parse_args(argv)

    ensure_built()
    if args.abi_only:
        for path in export_abis():
            print(f"wrote {path.relative_to(ONCHAIN_DIR.parent)}")
        return 0
    if not args.rpc_url:
        parser.error("--rpc-url (or RPC_URL) is required unless --abi-only")
    w3 = Web3(Web3.HTTPProvider(args.rpc_url))
    already = None if args.force else (deployed_entry(w3) if w3.is_connected() else None)
    try:
        entry = deploy(args.rpc_url, force=args.force)
    except DeployError as exc:
        print(f"deploy failed: {exc}", file=sys.stderr)
        return 1
    chain_id = w3.eth.chain_id
    if already is not None:
        print(f"already deployed on chain {chain_id}: nothing to do")
    else:
        written = ADDRESSES_FILE.relative_to(ONCHAIN_DIR.parent)
        print(f"deployed on chain {chain_id}; wrote {written}")
    print(json.dumps(entry, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
