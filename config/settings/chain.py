"""The chain, the deployed contracts and the platform's keys (underwriter, keeper)."""

from __future__ import annotations

import os
from pathlib import Path

from config.settings.base import BASE_DIR, VAR_DIR
from onchain.networks import network_from_env

# The chain: CHAIN_ID picks a preset (anvil 31337, XRPL EVM testnet 1449000, mainnet 1440000);
# RPC_URL overrides its endpoint or names any other chain.
CHAIN = network_from_env()
CHAIN_ID = CHAIN.chain_id
RPC_URL = CHAIN.rpc_url
# WalletConnect Cloud project id: set, the signing page offers WalletConnect next to the
# browser's own wallet (the bundle is built by `make setup`, served from static files).
WALLETCONNECT_PROJECT_ID = os.environ.get("WALLETCONNECT_PROJECT_ID", "")
# Deployed contracts per chain id (written by `make deploy-contracts`).
ONCHAIN_ADDRESSES_FILE = Path(os.environ.get("ONCHAIN_ADDRESSES_FILE",
                                            BASE_DIR / "onchain" / "addresses.json"))
# The underwriter signs loan approvals. On the local anvil chain its well-known dev key
# (anvil account 1, public, never for real money) is the default; elsewhere it must be set.
UNDERWRITER_PRIVATE_KEY = os.environ.get("UNDERWRITER_PRIVATE_KEY") or (
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
    if CHAIN_ID == 31337 else "")
# Where wallets open signing pages: the public origin of this web app.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The keeper sends markDefault/expire. On the local anvil chain the default is anvil's account
# 3, public knowledge: DEV ONLY; elsewhere it must be set (and funded with gas).
KEEPER_PRIVATE_KEY = os.environ.get("KEEPER_PRIVATE_KEY") or (
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
    if CHAIN_ID == 31337 else "")
# Lock files of the serial nonce manager when there is no Redis (one host).
NONCE_LOCK_DIR = os.environ.get("NONCE_LOCK_DIR") or str(VAR_DIR / "nonces")
