# Lendgram: `make run` runs the product, `make test` runs every test, `make bench` the
# benchmarks. Each does its own set-up through `make setup`, which is idempotent.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: setup run test lint bench contracts deploy-contracts sync-abi clean

setup: $(VENV)/.installed contracts/node_modules/.installed contracts
	$(PY) manage.py migrate --noinput -v0

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (PYTHON=... to choose one)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

contracts/node_modules/.installed: contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

contracts: contracts/node_modules/.installed
	cd contracts && npm run --silent build

deploy-contracts: setup
	$(PY) -m onchain.deploy --rpc-url $${RPC_URL:-http://127.0.0.1:8545}

sync-abi: contracts
	$(PY) -m onchain.deploy --abi-only

run: setup
	$(PY) manage.py rundev --port $(PORT)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run

test: setup lint
	cd contracts && npm test --silent
	$(PY) -m pytest

bench: setup
	@set -e; for bench in bench/*.py; do echo "== $$bench"; $(PY) $$bench; done

clean:
	rm -rf $(VENV) var build contracts/node_modules contracts/out contracts/cache
