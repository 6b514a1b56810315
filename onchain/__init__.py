"""Lendgram's chain driver: plain Python (web3, eth-account), never Django."""
