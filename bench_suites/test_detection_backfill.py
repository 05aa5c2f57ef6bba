"""Cost per run of ingest plus detection must not grow with history (issue 19, item 6a).

Embedded default: SQLite database, tasks eager (detection runs inside the
POST, after the ingest transaction commits). Each run posts a pytest-benchmark
file of ``BENCHMARKS`` benchmarks (20 raw samples each) for the next commit;
a tenth of the benchmarks step up by 30 % halfway, so alerts are raised and
reconciled along the way. Target: the mean of the last 20 runs at most 1.5x
the mean of the first 20.

Size: ``BW_BACKFILL_RUNS`` (default 300) x ``BW_BACKFILL_BENCHMARKS`` (default 200).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from tests.support.files import pytest_benchmark_document
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Alert
from web.services.projects import create_project
from web.services.tokens import create_token

RUNS = int(os.environ.get("BW_BACKFILL_RUNS", "300"))
BENCHMARKS = int(os.environ.get("BW_BACKFILL_BENCHMARKS", "200"))
SAMPLES = 20
WINDOW = 20
pytestmark = pytest.mark.timeout(3600)


def run_file(run: int, rng: np.random.Generator) -> bytes:
    """A --benchmark-json document for one run; benchmarks 0, 10, 20... step up at RUNS // 2."""
    samples = []
    for i in range(BENCHMARKS):
        level = 1e-4 * (1.3 if i % 10 == 0 and run >= RUNS // 2 else 1.0)
        samples.append((level * (1 + 0.01 * rng.standard_normal(SAMPLES))).tolist())
    return pytest_benchmark_document(samples)


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from web import create_app

    url = f"sqlite:///{tmp_path / 'bw.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        project = create_project(session, "bench")
        token = create_token(session, project, "write").secret
    engine.dispose()
    settings = replace(
        Settings.from_env({}), data_dir=tmp_path, database_url=url, secret_key="b", eager_tasks=True
    )
    return create_app(settings), token


def _active_alerts(app) -> int:  # type: ignore[no-untyped-def]
    factory = app.extensions["benchwarden.sessionmaker"]
    with session_scope(factory) as session:
        return int(session.scalar(select(func.count(Alert.id)).where(Alert.active)) or 0)


def test_backfill_cost_per_run_is_flat(tmp_path: Path) -> None:
    app, token = _app(tmp_path)
    client = app.test_client()
    rng = np.random.default_rng(0)
    bodies = [run_file(run, rng) for run in range(RUNS)]
    costs = []
    for run, body in enumerate(bodies):
        parents = f"&parents={run - 1:040x}" if run else ""
        start = time.perf_counter()
        response = client.post(
            f"/api/v1/runs?project=bench&commit={run:040x}&branch=main&machine=m{parents}",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        costs.append(time.perf_counter() - start)
        assert response.status_code == 201, response.json
    first, last = np.mean(costs[:WINDOW]), np.mean(costs[-WINDOW:])
    alerts = _active_alerts(app)
    print(
        f"\n{RUNS} runs x {BENCHMARKS} benchmarks (SQLite, eager): first {WINDOW} mean"
        f" {first * 1000:.0f} ms/run, last {WINDOW} mean {last * 1000:.0f} ms/run"
        f" ({last / first:.2f}x), total {sum(costs):.1f} s; {alerts} active alerts"
    )
    assert alerts >= BENCHMARKS // 10
    app.extensions["benchwarden.engine"].dispose()
    assert last <= 1.5 * first, f"last runs cost {last / first:.2f}x the first"


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-s", "-p", "no:cacheprovider"])
