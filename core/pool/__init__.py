"""The backstop pool's figures read from the chain and the ledger (a plain package: no models)."""
