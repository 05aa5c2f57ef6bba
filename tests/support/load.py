"""A bounded load driver: N client threads each posting M runs through the real upload client.

Each client re-sends every ``retry_every``-th submission with the same
idempotency key, as a CI job does when it never saw the first answer. All
traffic goes to the loopback address given.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from runner.schema import RunPayload
from runner.upload import UploadError, post_run


@dataclass
class LoadReport:
    submitted: int = 0
    resent: int = 0
    failed: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))] if ordered else 0.0


def result_file(client: int, n: int, benchmarks: int) -> bytes:
    records = [
        {
            "suite": "load",
            "name": f"bench_{b}",
            "measure": "time",
            "unit": "s",
            "value": 1e-3 * (1 + 0.01 * ((client + n + b) % 7)),
        }
        for b in range(benchmarks)
    ]
    return json.dumps({"format": "load", "runs": [{"results": records}]}).encode()


def run_load(
    url: str,
    token: str,
    project: str,
    *,
    clients: int,
    runs_per_client: int,
    benchmarks: int = 10,
    retry_every: int = 5,
    retries: int = 8,
    on_progress: Callable[[int], None] | None = None,
) -> LoadReport:
    report = LoadReport()

    def one_client(client: int) -> None:
        for n in range(runs_per_client):
            key = f"load-{client}-{n}"
            payload = RunPayload(
                project=project,
                commit=f"{client:08x}{n:032x}",
                branch=f"client-{client}",
                idempotency_key=key,
                format="benchwarden",
                machine={"name": f"m{client % 4}"},
            )
            data = result_file(client, n, benchmarks)
            sends = 2 if n % retry_every == 0 else 1
            for attempt in range(sends):
                start = time.perf_counter()
                try:
                    post_run(url, token, payload, data, "load.json", retries=retries, backoff=0.25)
                except UploadError as exc:
                    with report.lock:
                        report.failed.append(f"{key}: {exc}")
                    continue
                with report.lock:
                    report.latencies.append(time.perf_counter() - start)
                    report.submitted += attempt == 0
                    report.resent += attempt == 1
            if on_progress:
                on_progress(client * runs_per_client + n)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one_client, range(clients)))
    report.seconds = time.perf_counter() - started
    return report
