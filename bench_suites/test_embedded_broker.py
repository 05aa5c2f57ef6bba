"""Embedded broker throughput: tasks delivered per second by a real Celery worker.

The worker is a separate process (prefork, concurrency 1, prefetch 1, late
acknowledgement: the service worker's settings) consuming a SQLite broker file.
200 trivial tasks are queued first; the figure is how fast the worker drains
them. Ours (``runner.sqlite_broker``) is measured beside kombu's stock
SQLAlchemy transport in the same run. Target: >= 20 tasks/s.

Run: ``pytest bench_suites/test_embedded_broker.py -s -p no:cacheprovider``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TASKS = 200
REPO = Path(__file__).resolve().parents[1]
WORKER = [sys.executable, "-m", "celery", "-A", "tests.support.broker_probe", "worker"]
WORKER += ["--without-gossip", "--without-mingle"]


def _drain_rate(tmp: Path, stock: bool, limit: float) -> float:
    url = f"sqlalchemy+sqlite:///{tmp / 'broker.db'}"
    env = os.environ | {"BROKER_PROBE_URL": url, "BROKER_PROBE_STOCK": "1" if stock else "0"}
    out = tmp / "stamps.txt"
    code = (
        "from tests.support.broker_probe import stamp\n"
        f"for _ in range({TASKS}): stamp.delay({str(out)!r})"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
    worker = subprocess.Popen(
        [*WORKER, "--pool=prefork", "--concurrency=1", "--loglevel=ERROR"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        start, done = time.monotonic(), 0
        while time.monotonic() - start < limit:
            done = len(out.read_text().splitlines())
            if done >= TASKS:
                break
            time.sleep(0.02)
        return done / (time.monotonic() - start)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


@pytest.mark.parametrize("transport", ["ours", "kombu-stock"])
def test_embedded_broker_drain_rate(benchmark, tmp_path: Path, transport: str) -> None:  # type: ignore[no-untyped-def]
    stock = transport == "kombu-stock"
    # The stock transport delivers about one task a second: 30 s shows its rate.
    rate = benchmark.pedantic(
        _drain_rate, args=(tmp_path, stock, 30.0 if stock else 60.0), rounds=1, iterations=1
    )
    benchmark.extra_info["tasks_per_second"] = round(rate, 1)
    print(f"\n{transport}: {rate:.1f} tasks/s")
    if not stock:
        assert rate >= 20
