"""A tiny process supervisor for the development run: start every part, stop them together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


class PartFailed(RuntimeError):
    pass


@dataclass
class Part:
    name: str
    command: Sequence[str]
    env: dict[str, str] | None = None
    # Parts start in order; a part with `ready` must pass it before the next one starts, and
    # `after_ready` runs then (e.g. deploy contracts once the chain answers).
    ready: Callable[[], bool] | None = None
    after_ready: Callable[[], None] | None = None
    ready_timeout: float = 60.0
    process: subprocess.Popen | None = field(default=None, repr=False)


def _start(part: Part) -> None:
    # Own process group: a Ctrl-C reaches the parts once, through us, in order.
    part.process = subprocess.Popen(list(part.command), env=part.env, start_new_session=True)
    if part.ready is None:
        return
    deadline = time.monotonic() + part.ready_timeout
    while not part.ready():
        if part.process.poll() is not None:
            raise PartFailed(f"{part.name} exited with status {part.process.returncode}")
        if time.monotonic() > deadline:
            raise PartFailed(f"{part.name} was not ready within {part.ready_timeout:.0f} s")
        time.sleep(0.2)
    if part.after_ready is not None:
        part.after_ready()


def run_parts(parts: list[Part], *, poll_seconds: float = 0.5) -> int:
    """Run the parts until one exits or we are told to stop; returns an exit status."""
    stopping = False

    def request_stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for part in parts:
            if stopping:
                return 0
            try:
                _start(part)
            except PartFailed as exc:
                print(f"[rundev] {exc}; stopping the rest", file=sys.stderr)
                return 1
        status = 0
        while not stopping:
            for part in parts:
                code = part.process.poll()
                if code is not None:
                    print(f"[rundev] {part.name} exited with status {code}; stopping the rest",
                          file=sys.stderr)
                    status = code or 1
                    stopping = True
                    break
            time.sleep(poll_seconds)
        return status
    finally:
        _stop(parts)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(parts: list[Part], *, grace_seconds: float = 10.0) -> None:
    running = [part for part in reversed(parts) if part.process and part.process.poll() is None]
    for part in running:
        part.process.terminate()
    deadline = time.monotonic() + grace_seconds
    for part in running:
        try:
            part.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            part.process.kill()
            part.process.wait()
