"""A local anvil chain for development and tests (chain id 31337).

Runs the real anvil binary from contracts/node_modules (the npm ``.bin`` shim is a node wrapper
that exits slowly and hides anvil's pid)::

    with DevChain.start() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))

or in the foreground: ``python -m onchain.devchain --port 8545``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"
CHAIN_ID = 31337
HOST = "127.0.0.1"


class DevChainError(RuntimeError):
    """anvil is missing, or did not start answering in time."""


def anvil_path() -> Path:
    """Path of the real anvil binary that ``npm ci`` in contracts/ installed."""
    override = os.environ.get("ANVIL_BIN")
    if override:
        return Path(override)
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    name = "anvil.exe" if system == "windows" else "anvil"
    system = "win32" if system == "windows" else system
    return CONTRACTS_DIR / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / name


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rpc_answers(rpc_url: str, timeout: float = 0.5) -> bool:
    """Whether a JSON-RPC node at ``rpc_url`` answers ``eth_chainId``."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(  # noqa: S310 (only ever a local http URL)
        rpc_url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return "result" in json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return False


class DevChain:
    """A running anvil process; stop it with :meth:`stop` or by leaving the ``with`` block."""

    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port
        self.rpc_url = f"http://{HOST}:{port}"

    @classmethod
    def start(
        cls,
        port: int | None = None,
        *,
        silent: bool = True,
        timeout: float = 20.0,
        extra_args: list[str] | None = None,
    ) -> DevChain:
        """Start anvil on ``port`` (a free one when None) and wait until it answers."""
        binary = anvil_path()
        if not binary.exists():
            raise DevChainError(f"anvil not found at {binary}: run `npm ci` in {CONTRACTS_DIR}")
        port = port or free_port()
        args = [str(binary), "--host", HOST, "--port", str(port), "--chain-id", str(CHAIN_ID)]
        if silent:
            args.append("--silent")
        args.extend(extra_args or [])
        output = subprocess.DEVNULL if silent else None
        process = subprocess.Popen(args, stdout=output, stderr=output)
        chain = cls(process, port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DevChainError(
                    f"anvil exited with code {process.returncode} (port {port} taken?)"
                )
            if rpc_answers(chain.rpc_url):
                return chain
            time.sleep(0.05)
        chain.stop()
        raise DevChainError(f"anvil did not answer on {chain.rpc_url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Terminate anvil (kill it if it does not exit within 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> DevChain:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local anvil chain (chain id 31337).")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--verbose", action="store_true", help="let anvil print its log")
    parser.add_argument("--state", help="load the chain from this file and save it there on "
                        "exit, so a restarted chain keeps its contracts and loans")
    args = parser.parse_args(argv)
    # A process manager stops us with SIGTERM: turn it into SystemExit so anvil goes down too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _exit_on_signal)
    extra = ["--state", args.state] if args.state else []
    chain = DevChain.start(args.port, silent=not args.verbose, extra_args=extra)
    print(f"anvil listening on {chain.rpc_url} (chain id {CHAIN_ID}); Ctrl-C stops it", flush=True)
    try:
        return chain.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        chain.stop()


if __name__ == "__main__":
    raise SystemExit(main())
