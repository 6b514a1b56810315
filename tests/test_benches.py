"""Every benchmark still runs end to end (small sizes) and ends with its JSON line of figures.

The figures themselves are not judged here (timing belongs to `make bench`); this catches a
benchmark broken by a schema or API change before someone needs its numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the benchmarks measure PostgreSQL: set DATABASE_URL=postgres://... to run them")

RUNS = {
    "indexer": ([], {"BENCH_LOANS": "4"},
                {"events_per_s", "fetch_decode_events_per_s", "ratio_vs_fetch_decode"}),
    "scoring": (["--borrowers", "300", "--naive", "20", "--workers", "1"], {},
                {"borrowers_per_s", "naive_borrowers_per_s", "ratio_vs_naive",
                 "peak_rss_mb_10k", "peak_rss_mb_100k"}),
    "bot": (["--updates", "120", "--people", "4", "--latency-updates", "30"], {},
            {"updates_per_s", "echo_updates_per_s", "ratio_vs_echo", "p50_ms", "p99_ms"}),
    "broadcast": (["--messages", "40"], {},
                  {"messages_per_s", "ratio_vs_ceiling", "http_429_after_first_second"}),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_benchmark_runs_and_prints_its_figures(name):
    args, env, keys = RUNS[name]
    # The server the suite runs on; each benchmark creates and drops its own database there.
    url = os.environ["DATABASE_URL"]
    run = subprocess.run([sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, **env, "DATABASE_URL": url})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert keys <= set(figures), figures
    assert all(isinstance(figures[key], int | float) for key in keys), figures
