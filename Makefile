# Lendgram: `make run` runs the product, `make test` runs every test, `make bench` the
# benchmarks. Each does its own set-up through `make setup`, which is idempotent.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Browser libraries come from npm and are served from Django's static files (never a CDN).
ETHERS := core/static/vendor/ethers.umd.min.js
# WalletConnect's npm UMD needs viem/lit/bs58 globals: esbuild bundles it into one file instead.
WALLETCONNECT := core/static/vendor/walletconnect.min.js

.PHONY: setup run test lint bench browser contracts deploy-contracts sync-abi clean up down

setup: $(VENV)/.installed contracts/node_modules/.installed contracts $(ETHERS) $(WALLETCONNECT) browser
	$(PY) manage.py migrate --noinput -v0
	$(VENV)/bin/pybabel -q compile -d locale -D django

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (PYTHON=... to choose one)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

contracts/node_modules/.installed: contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ETHERS): node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/ethers/dist/ethers.umd.min.js $@

$(WALLETCONNECT): node_modules/.installed core/signing/assets/walletconnect.js
	npm run --silent build:walletconnect

# Page tests drive Debian's chromium (Playwright's own browser download does not work here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "Could not install chromium: browser tests will be skipped"; \
	  else \
	    echo "chromium is missing: browser tests will be skipped (sudo apt-get install chromium)"; \
	  fi; }

contracts: contracts/node_modules/.installed
	cd contracts && npm run --silent build

deploy-contracts: setup
	$(PY) -m onchain.deploy --rpc-url $${RPC_URL:-http://127.0.0.1:8545}

sync-abi: contracts
	$(PY) -m onchain.deploy --abi-only

run: setup
	$(PY) manage.py rundev --port $(PORT)

# The layers of design.md are import-linter contracts (pyproject.toml): a breach fails lint.
lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

test: setup lint
	cd contracts && npm test --silent
	$(PY) -m pytest

# The benchmarks measure PostgreSQL (each creates and drops its own database on that server).
bench: setup
	@case "$${DATABASE_URL:-}" in postgres*://*) ;; *) \
	  echo "make bench measures against PostgreSQL: DATABASE_URL=postgres://user@host:5432/db make bench"; \
	  exit 2;; esac
	@set -e; for bench in bench/*.py; do \
	  [ "$$bench" = bench/scratch.py ] && continue; \
	  echo "== $$bench"; $(PY) $$bench; done

# The production-like stack of infra/ (Docker with the compose plugin; needs a .env with at
# least DJANGO_SECRET_KEY, see .env.example).
COMPOSE := docker compose --env-file .env -f infra/docker-compose.yml --project-name lendgram

up:
	@test -f .env || { echo "Copy .env.example to .env and set DJANGO_SECRET_KEY first"; exit 1; }
	$(COMPOSE) up --build --detach --wait

down:
	$(COMPOSE) down

clean:
	rm -rf $(VENV) var build node_modules core/static/vendor contracts/node_modules \
		contracts/out contracts/cache
