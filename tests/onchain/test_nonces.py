"""The serial nonce manager against a real anvil: concurrent senders never collide, a stale
record or a lagging node is resynced, and keys never show up in errors."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import threading
import time

import pytest
import redis
from web3 import Web3

from onchain import deploy as deployment
from onchain.devchain import DevChain, free_port
from onchain.nonces import FileNonceStore, PermanentSendError, RedisNonceStore, SerialSender

KEEPER = deployment.DEV["keeper"]
TARGET = "0x" + "99" * 20


@pytest.fixture(scope="module")
def chain():
    with DevChain.start() as dev:
        yield dev


@pytest.fixture(scope="module")
def redis_client(tmp_path_factory):
    """The configured Redis (CI), else a disposable redis-server, else skip."""
    if os.environ.get("REDIS_URL"):
        yield redis.Redis.from_url(os.environ["REDIS_URL"])
        return
    if not shutil.which("redis-server"):
        pytest.skip("no REDIS_URL and no redis-server binary")
    port = free_port()
    pidfile = tmp_path_factory.mktemp("redis") / "redis.pid"
    subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                    "--pidfile", str(pidfile), "--daemonize", "yes"], check=True,
                   stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield client
    client.shutdown(nosave=True)


def transfer(value: int = 1) -> dict:
    return {"to": TARGET, "value": value, "gas": 21_000}


def nonces_of(w3: Web3, hashes: list[str]) -> list[int]:
    return sorted(w3.eth.get_transaction(h)["nonce"] for h in hashes)


def _send_many(rpc_url: str, directory: str, count: int, queue) -> None:
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    store = FileNonceStore(directory=directory, chain_id=31337, address=KEEPER.address)
    sender = SerialSender(w3=w3, private_key=KEEPER.private_key, store=store)
    queue.put([sender.send(transfer()) for _ in range(count)])


def test_senders_in_separate_processes_never_reuse_a_nonce(chain, tmp_path):
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    start = w3.eth.get_transaction_count(KEEPER.address, "pending")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_send_many, args=(chain.rpc_url, str(tmp_path), 6, queue))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    hashes = [h for _ in workers for h in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=30)
    assert nonces_of(w3, hashes) == list(range(start, start + 18))
    for tx_hash in hashes:
        assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


def test_senders_on_many_hosts_share_the_redis_lock(chain, redis_client):
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    start = w3.eth.get_transaction_count(KEEPER.address, "pending")
    prefix = f"test-nonce-{os.getpid()}-{time.time_ns()}"
    hashes: list[str] = []

    def host() -> None:
        store = RedisNonceStore(client=redis_client, chain_id=31337, address=KEEPER.address,
                                prefix=prefix)
        sender = SerialSender(w3=Web3(Web3.HTTPProvider(chain.rpc_url)),
                              private_key=KEEPER.private_key, store=store)
        for _ in range(5):
            hashes.append(sender.send(transfer()))

    threads = [threading.Thread(target=host) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert nonces_of(w3, hashes) == list(range(start, start + 15))
    assert int(redis_client.get(f"{prefix}:31337-{KEEPER.address}")) == start + 14


def test_a_record_behind_the_chain_follows_the_chains_pending_nonce(chain, tmp_path):
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    store = FileNonceStore(directory=tmp_path, chain_id=31337, address=KEEPER.address)
    with store.locked() as slot:
        slot.record(0)  # long ago; other transactions were sent since
    pending = w3.eth.get_transaction_count(KEEPER.address, "pending")
    tx_hash = SerialSender(w3=w3, private_key=KEEPER.private_key, store=store).send(transfer())
    assert w3.eth.get_transaction(tx_hash)["nonce"] == pending


def test_a_record_ahead_of_the_chain_never_stalls_sending(chain, tmp_path):
    """A reset chain, or a transaction the node dropped: the record points past anything the
    node knows. Following it would leave a nonce gap that is never mined."""
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    store = FileNonceStore(directory=tmp_path, chain_id=31337, address=KEEPER.address)
    pending = w3.eth.get_transaction_count(KEEPER.address, "pending")
    with store.locked() as slot:
        slot.record(pending + 40)
    tx_hash = SerialSender(w3=w3, private_key=KEEPER.private_key, store=store).send(transfer())
    assert w3.eth.get_transaction(tx_hash)["nonce"] == pending
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)["status"] == 1


class LaggingNode:
    """A node behind a load balancer that reports an old pending nonce once."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self.eth = self
        self.lag_once = True

    def __getattr__(self, name):
        return getattr(self._w3.eth, name)

    def get_transaction_count(self, address, block="latest"):
        count = self._w3.eth.get_transaction_count(address, block)
        if self.lag_once:
            self.lag_once = False
            return count - 1
        return count


def test_nonce_too_low_resyncs_and_sends_with_the_next_nonce(chain, tmp_path):
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": KEEPER.address, "to": TARGET, "value": 1}))
    pending = w3.eth.get_transaction_count(KEEPER.address, "pending")
    store = FileNonceStore(directory=tmp_path, chain_id=31337, address=KEEPER.address)
    sender = SerialSender(w3=LaggingNode(w3), private_key=KEEPER.private_key, store=store)
    tx_hash = sender.send(transfer())
    assert w3.eth.get_transaction(tx_hash)["nonce"] == pending
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


def test_a_refused_transaction_is_permanent_and_its_error_hides_the_key(chain, tmp_path):
    w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
    store = FileNonceStore(directory=tmp_path, chain_id=31337, address=KEEPER.address)
    sender = SerialSender(w3=w3, private_key=KEEPER.private_key, store=store)
    with pytest.raises(PermanentSendError) as refused:
        sender.send({"to": TARGET, "value": 10**30, "gas": 21_000})  # more than it holds
    assert KEEPER.private_key[2:] not in str(refused.value)
    assert KEEPER.private_key[2:] not in repr(sender)
