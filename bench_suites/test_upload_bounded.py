"""Bounded uploads: the adversarial body of issue 14 against gunicorn on SQLite.

``{`` followed by 256,000 spaces made format detection quadratic (129 s, and a
concurrent ``GET /api/v1/projects`` waited 5.9 s). Targets: that body answers
4xx in under 1 s, and a ``GET /api/v1/projects`` is slowed by at most 100 ms
while four such bodies are in flight.

gunicorn as deployed (2 gthread workers x 4 threads, ``web:create_app()``) on
a SQLite file, over loopback, after the workers answered once. Figures are
printed and kept in ``extra_info``; bench_suites/README.md records them.
"""

from __future__ import annotations

import concurrent.futures
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.servers import GunicornServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.services.projects import create_project
from web.services.tokens import create_token

BODY = b"{" + b" " * 256_000
IN_FLIGHT = 4
ROUNDS = 40
TARGET_SECONDS = 1.0
TARGET_SLOWDOWN = 0.100


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data_dir: Path = tmp_path_factory.mktemp("upload")
    url = f"sqlite:///{data_dir / 'benchwarden.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = create_token(session, create_project(session, "alpha"), "write").secret
    engine.dispose()
    web = GunicornServer(
        {
            "BENCHWARDEN_DATABASE_URL": url,
            "BENCHWARDEN_DATA_DIR": str(data_dir),
            "BENCHWARDEN_SECRET_KEY": "bench",
            "BENCHWARDEN_EAGER_TASKS": "true",
        }
    ).start()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{web.url}/api/v1/projects", timeout=10).ok:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        yield web.url, token
    finally:
        web.stop()


def _upload(session: requests.Session, url: str, token: str) -> int:
    response = session.post(
        f"{url}/api/v1/runs?project=alpha&commit=abcdef1",
        data=BODY,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
        timeout=60,
    )
    return response.status_code


def _read(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(f"{url}/api/v1/projects", timeout=60)
    assert response.status_code == 200
    return time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_adversarial_body_answers_in_under_a_second(benchmark, service) -> None:  # type: ignore[no-untyped-def]
    url, token = service
    session = requests.Session()
    statuses: list[int] = []

    def one() -> None:
        statuses.append(_upload(session, url, token))

    benchmark.pedantic(one, rounds=20, iterations=1, warmup_rounds=1)
    assert set(statuses) == {422}
    median = benchmark.stats.stats.median
    worst = benchmark.stats.stats.max
    benchmark.extra_info.update({"median_s": median, "max_s": worst})
    print(f"\n{{ + 256,000 spaces: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms (422)")
    assert worst < TARGET_SECONDS


def _read_during_uploads(url: str, token: str, uploads: int, rounds: int) -> list[float]:
    """GET latencies, each sent while `uploads` adversarial bodies are in flight.

    Each round starts the uploads together (their own connections), sends the
    GET a few milliseconds later, and waits for all of them.
    """
    reader = requests.Session()
    senders = [requests.Session() for _ in range(uploads)]
    latencies: list[float] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(uploads, 1)) as pool:
        for _ in range(rounds):
            start = threading.Barrier(uploads + 1)

            def send(session: requests.Session, start: threading.Barrier = start) -> int:
                start.wait()
                return _upload(session, url, token)

            in_flight = [pool.submit(send, session) for session in senders]
            start.wait()
            time.sleep(0.003 if uploads else 0)
            latencies.append(_read(reader, url))
            assert [f.result() for f in in_flight] == [422] * uploads
    return latencies


def test_reads_while_four_adversarial_bodies_are_in_flight(benchmark, service) -> None:  # type: ignore[no-untyped-def]
    url, token = service
    _read_during_uploads(url, token, 0, 5)
    alone = _read_during_uploads(url, token, 0, ROUNDS)
    loaded = benchmark.pedantic(
        _read_during_uploads, args=(url, token, IN_FLIGHT, ROUNDS), rounds=1, iterations=1
    )
    slowdown_p50 = statistics.median(loaded) - statistics.median(alone)
    slowdown_p95 = _percentile(loaded, 0.95) - _percentile(alone, 0.95)
    figures = {
        "alone_p50_ms": statistics.median(alone) * 1000,
        "alone_p95_ms": _percentile(alone, 0.95) * 1000,
        "loaded_p50_ms": statistics.median(loaded) * 1000,
        "loaded_p95_ms": _percentile(loaded, 0.95) * 1000,
        "loaded_max_ms": max(loaded) * 1000,
    }
    benchmark.extra_info.update(figures)
    print(
        f"\nGET /api/v1/projects alone p50 {figures['alone_p50_ms']:.1f} ms, p95 "
        f"{figures['alone_p95_ms']:.1f} ms; sent while {IN_FLIGHT} adversarial uploads are in "
        f"flight p50 {figures['loaded_p50_ms']:.1f} ms, p95 {figures['loaded_p95_ms']:.1f} ms, "
        f"max {figures['loaded_max_ms']:.1f} ms ({ROUNDS} rounds)"
    )
    assert slowdown_p50 < TARGET_SLOWDOWN, figures
    assert slowdown_p95 < TARGET_SLOWDOWN, figures
