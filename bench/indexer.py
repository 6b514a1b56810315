"""Chain indexer throughput: full indexing into PostgreSQL against fetching and decoding alone.

    .venv/bin/python bench/indexer.py

Starts a fresh anvil, deploys the contracts, and generates well over 10,000 contract events
from pre-signed transactions sent in JSON-RPC batches (loans opened, funded by ten lenders each,
drawn down, repaid in three instalments, then claimed with claimMany); blocks are mined by hand,
a few hundred transactions each, like a busy chain. The matching users, approved loans and
open-loan signing requests are set up in a throwaway PostgreSQL database
(lendgram_bench_indexer, created and dropped here), so every event really applies. It then
times (a) fetch_events + decoding over the indexer's batch ranges and (b) chain_sync storing
and applying everything, prints what it measured and ends with one line of JSON. Goal: the
indexer keeps at least 0.3 of the fetch + decode rate.

DATABASE_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test);
only the throwaway database on it is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from eth_account import Account
from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from onchain.approvals import LoanApproval, grade_code, sign_loan_approval  # noqa: E402
from onchain.contracts import Deployment  # noqa: E402
from onchain.deploy import DEV, deploy  # noqa: E402
from onchain.devchain import DevChain  # noqa: E402
from onchain.events import LogDecoder, fetch_events  # noqa: E402
from onchain.transactions import Builder  # noqa: E402

DB_NAME = "lendgram_bench_indexer"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
GOAL_RATIO = 0.3
USD = 10**6
LOANS = int(os.environ.get("BENCH_LOANS", "400"))
LENDERS = 10
TICKET = 10 * USD  # each lender funds one ticket of every loan
INSTALLMENTS = 3
APR_BPS = 1800
CLAIM_CHUNK = 100  # loans per claimMany
TXS_PER_BLOCK = 300
BATCH_BLOCKS = 10  # the indexer's blocks per batch
GAS = {"open_loan": 300_000, "approve": 80_000, "fund": 200_000, "drawdown": 150_000,
       "repay": 200_000, "claim": 60_000 * CLAIM_CHUNK, "mint": 100_000}
MAX_UINT = 2**256 - 1


# ---------------------------------------------------------------- throwaway database

def _database_urls() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("bench/indexer.py needs a PostgreSQL DATABASE_URL")
    return url, urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def _admin_connection(url: str) -> psycopg.Connection:
    parts = urlsplit(url)
    return psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                           user=parts.username or "postgres", password=parts.password or None,
                           dbname=parts.path.lstrip("/") or "postgres", autocommit=True)


def create_database(server_url: str) -> None:
    with _admin_connection(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database(server_url: str) -> None:
    with _admin_connection(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


# ---------------------------------------------------------------- sending transactions

class Sender:
    """Pre-signs transactions with local nonces and sends them in JSON-RPC batches; blocks are
    mined by hand every TXS_PER_BLOCK transactions."""

    def __init__(self, rpc_url: str, chain_id: int) -> None:
        self.rpc_url = rpc_url
        self.chain_id = chain_id
        self.session = requests.Session()
        self.nonces: dict[str, int] = {}
        self.pending: list[str] = []
        self.sent = 0

    def rpc(self, payload):
        response = self.session.post(self.rpc_url, json=payload, timeout=120)
        response.raise_for_status()
        return response.json()

    def add(self, account, to: str, data: str, gas: int) -> None:
        nonce = self.nonces.get(account.address, 0)
        self.nonces[account.address] = nonce + 1
        tx = {"to": to, "data": data, "value": 0, "gas": gas, "gasPrice": 2 * 10**9,
              "nonce": nonce, "chainId": self.chain_id}
        self.pending.append(Web3.to_hex(account.sign_transaction(tx).raw_transaction))
        if len(self.pending) >= TXS_PER_BLOCK:
            self.flush()

    def flush(self) -> None:
        """Send what is pending and mine it into one block."""
        if not self.pending:
            return
        batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                 for i, raw in enumerate(self.pending)]
        errors = [r["error"] for r in self.rpc(batch) if "error" in r]
        if errors:
            raise RuntimeError(f"{len(errors)} transactions refused, e.g. {errors[0]}")
        self.sent += len(self.pending)
        self.pending = []
        self.rpc({"jsonrpc": "2.0", "id": 0, "method": "evm_mine", "params": []})


def generate_events(rpc_url: str, deployment: Deployment, borrower, lenders, loans_terms
                    ) -> list[LoanApproval]:
    """Open, fund, draw down, repay and claim every loan on chain; returns the approvals."""
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    builder = Builder(deployment)
    sender = Sender(rpc_url, deployment.chain_id)
    for account in (borrower, *lenders):
        sender.nonces[account.address] = w3.eth.get_transaction_count(account.address)
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10**21)])
    deployer = Account.from_key(DEV["deployer"].private_key)
    sender.nonces[deployer.address] = w3.eth.get_transaction_count(deployer.address)
    stable = deployment.contract("MockStable")
    w3.provider.make_request("evm_setAutomine", [False])

    for account, amount in [(borrower, LOANS * 10 * USD)] + [(lender, LOANS * TICKET)
                                                              for lender in lenders]:
        sender.add(deployer, stable.address,
                   stable.encode_abi("mint", args=[account.address, amount]), GAS["mint"])
        step = builder.approve(deployment.loan_book, MAX_UINT)
        sender.add(account, step.to, step.data, GAS["approve"])
    sender.flush()

    underwriter = DEV["underwriter"].private_key
    now = w3.eth.get_block("latest")["timestamp"]
    approvals = []
    for principal, total_due in loans_terms:
        approval = LoanApproval(
            borrower=borrower.address, principal=principal, total_due=total_due,
            installments=INSTALLMENTS, interval=30 * 86400, funding_deadline=now + 7 * 86400,
            grade=grade_code("B"), nonce=secrets.randbits(128), expiry=now + 86400)
        signature = sign_loan_approval(approval, private_key=underwriter,
                                       chain_id=deployment.chain_id,
                                       loan_book=deployment.loan_book)
        (step,) = builder.open_loan(approval, signature)
        sender.add(borrower, step.to, step.data, GAS["open_loan"])
        approvals.append(approval)
    sender.flush()
    chain_ids = range(1, LOANS + 1)  # one borrower, nonce order: ids are sequential from 1
    for lender in lenders:
        for loan_id in chain_ids:
            step = builder.fund(loan_id, TICKET)[-1]  # allowance is already unlimited
            sender.add(lender, step.to, step.data, GAS["fund"])
    sender.flush()
    for loan_id in chain_ids:
        (step,) = builder.drawdown(loan_id)
        sender.add(borrower, step.to, step.data, GAS["drawdown"])
    sender.flush()
    for k in range(1, INSTALLMENTS + 1):
        for loan_id, (_, total_due) in zip(chain_ids, loans_terms, strict=True):
            amount = total_due * k // INSTALLMENTS - total_due * (k - 1) // INSTALLMENTS
            step = builder.repay(loan_id, amount)[-1]
            sender.add(borrower, step.to, step.data, GAS["repay"])
        sender.flush()
    for lender in lenders:
        for start in range(1, LOANS + 1, CLAIM_CHUNK):
            (step,) = builder.claim(list(range(start, min(start + CLAIM_CHUNK, LOANS + 1))))
            sender.add(lender, step.to, step.data, GAS["claim"])
    sender.flush()
    print(f"sent {sender.sent} transactions")
    return approvals


# ---------------------------------------------------------------- the database side

def set_up_domain(borrower, lenders, loans_terms, approvals) -> None:
    """Users with linked wallets, approved loans and their open-loan signing requests."""
    from django.utils import timezone

    from core.loans.models import Loan
    from core.loans.states import LoanState
    from core.signing.models import SigningKind, SigningRequest
    from core.signing.services import token_hash
    from core.users.models import TelegramUser

    now = timezone.now()
    people = [TelegramUser(telegram_id=7_000_000 + i, username=f"bench{i}",
                           is_borrower=i == 0, is_lender=i > 0, consented_at=now,
                           wallet_address=account.address, wallet_verified_at=now, kyc_tier=2)
              for i, account in enumerate((borrower, *lenders))]
    TelegramUser.objects.bulk_create(people)
    owner = TelegramUser.objects.get(telegram_id=7_000_000)
    loans = Loan.objects.bulk_create(
        Loan(borrower=owner, state=LoanState.APPROVED, principal=principal,
             installments=INSTALLMENTS, interval_days=30, purpose="business", grade="B",
             score=700, apr_bps=APR_BPS, total_due=total_due, offered_at=now)
        for principal, total_due in loans_terms)
    SigningRequest.objects.bulk_create(
        SigningRequest(token_hash=token_hash(secrets.token_urlsafe(24)), user=owner,
                       kind=SigningKind.OPEN_LOAN, loan=loan, chain_id=31337,
                       amount=loan.principal, summary="bench", expires_at=now + timedelta(days=1),
                       approval_nonce=str(approval.nonce))
        for loan, approval in zip(loans, approvals, strict=True))


# ---------------------------------------------------------------- measuring

def measure_fetch_decode(w3: Web3, deployment: Deployment, first: int, last: int) -> int:
    decoder = LogDecoder(deployment)
    events = 0
    for start in range(first, last + 1, BATCH_BLOCKS):
        events += len(fetch_events(w3, decoder, from_block=start,
                                   to_block=min(last, start + BATCH_BLOCKS - 1)))
    return events


class Breakdown:
    """Where indexing time goes: wall time and SQL queries of applying the stored logs
    (services, ledger and notifications included). Only with BENCH_PROFILE=1."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.applying_queries = 0
        self.counts: Counter = Counter()
        self.total_queries = 0

    def count_query(self, execute, sql, params, many, context):
        self.total_queries += 1
        return execute(sql, params, many, context)

    def install(self):
        from django.db import connection

        from core.chain import chain_sync as sync_module

        apply = sync_module.chain_logs_apply

        def timed_apply(*, entries):
            queries, started = self.total_queries, time.perf_counter()
            try:
                return apply(entries=entries)
            finally:
                self.seconds += time.perf_counter() - started
                self.applying_queries += self.total_queries - queries
                self.counts.update(entry.name for entry in entries)

        sync_module.chain_logs_apply = timed_apply
        return connection.execute_wrapper(self.count_query)

    def print(self, sync_seconds: float, events: int) -> None:
        print(f"profile: {self.total_queries} SQL queries ({self.total_queries / events:.2f} per "
              f"event), {self.applying_queries} of them applying logs; applying took "
              f"{self.seconds:.1f} s of {sync_seconds:.1f} s, the rest is reading blocks, "
              "storing logs and confirming signing requests")
        for name, count in self.counts.most_common():
            print(f"  {name:17} {count:6} events")


def main() -> int:
    server_url, bench_url = _database_urls()
    folder = Path(tempfile.mkdtemp(prefix="bench-indexer-"))
    os.environ.update({"DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "config.settings",
                       "ONCHAIN_ADDRESSES_FILE": str(folder / "addresses.json"),
                       "LOG_LEVEL": "WARNING"})
    create_database(server_url)
    chain = DevChain.start(extra_args=["--gas-limit", "3000000000"])
    try:
        return run(chain, folder)
    finally:
        chain.stop()
        from django.db import connections

        connections.close_all()
        drop_database(server_url)


def run(chain: DevChain, folder: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from core.chain.chain_sync import chain_sync
    from core.chain.models import ChainCursor, ChainLog
    from core.loans.amortization import annuity_total_due

    call_command("migrate", verbosity=0)
    deploy(chain.rpc_url, addresses_file=folder / "addresses.json", abi_dir=folder / "abi")
    deployment = Deployment.for_chain(31337, path=folder / "addresses.json")
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    first_block = w3.eth.block_number + 1

    keys = [Web3.keccak(text=f"lendgram bench indexer {i}") for i in range(LENDERS + 1)]
    borrower, *lenders = [Account.from_key(key) for key in keys]
    principal = LENDERS * TICKET
    total_due = annuity_total_due(principal=principal, apr_bps=APR_BPS,
                                  installments=INSTALLMENTS, interval_days=30)
    terms = [(principal, total_due)] * LOANS

    started = time.perf_counter()
    approvals = generate_events(chain.rpc_url, deployment, borrower, lenders, terms)
    last_block = w3.eth.block_number
    print(f"generated blocks {first_block}..{last_block} in {time.perf_counter() - started:.1f} s")
    set_up_domain(borrower, lenders, terms, approvals)
    ChainCursor.objects.create(chain_id=31337, next_block=first_block)

    started = time.perf_counter()
    fetched = measure_fetch_decode(w3, deployment, first_block, last_block)
    fetch_seconds = time.perf_counter() - started
    print(f"fetch + decode: {fetched} events in {fetch_seconds:.2f} s")

    breakdown = Breakdown() if os.environ.get("BENCH_PROFILE") else None
    counting = breakdown.install() if breakdown else contextlib.nullcontext()
    started = time.perf_counter()
    with counting:
        while ChainCursor.objects.get(chain_id=31337).next_block <= last_block:
            chain_sync(w3=w3, deployment=deployment, confirmations=0,
                       batch_blocks=BATCH_BLOCKS, max_batches=1000)
    sync_seconds = time.perf_counter() - started
    stored = ChainLog.objects.count()
    problems = ChainLog.objects.exclude(problem="").count()
    unapplied = ChainLog.objects.filter(applied_at__isnull=True).count()
    by_name = Counter(ChainLog.objects.values_list("name", flat=True))
    print(f"chain_sync: {stored} events stored and applied in {sync_seconds:.2f} s "
          f"({unapplied} not applied, {problems} with a problem)")
    print("events: " + ", ".join(f"{name} {count}" for name, count in sorted(by_name.items())))
    if breakdown:
        breakdown.print(sync_seconds, stored)
    if stored != fetched or problems or unapplied or fetched < 10_000 * LOANS // 400:
        print("the bench did not index what it generated", file=sys.stderr)
        return 1

    events_per_s = stored / sync_seconds
    fetch_per_s = fetched / fetch_seconds
    ratio = events_per_s / fetch_per_s
    print(f"indexing keeps {ratio:.2f} of the fetch + decode rate (goal {GOAL_RATIO})")
    print(json.dumps({"events_per_s": round(events_per_s, 1),
                      "fetch_decode_events_per_s": round(fetch_per_s, 1),
                      "ratio_vs_fetch_decode": round(ratio, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
