"""`benchwarden up` on PostgreSQL and Redis: everything starts, and SIGTERM stops everything.

The command runs as a child process with --database-url and --broker-url; the
test waits for its URL, submits a result over HTTP with the printed token,
sees it detected by the service worker, then sends SIGTERM and checks that the
command exits 0 and that both workers it started are gone.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select

from tests.conftest import FIXTURES
from tests.integration.test_demo import _children_of, _wait_for
from tests.support.servers import PostgresServer, RedisServer, free_port
from web.models import Series

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_up_on_postgres_and_redis_stops_cleanly(
    pg_server: PostgresServer | None, tmp_path: Path
) -> None:
    from tests.conftest import _pg_url

    database = _pg_url(pg_server, "bw_up")
    redis = RedisServer().start()
    port = free_port()
    log = tmp_path / "up.out"
    env = os.environ | {"BENCHWARDEN_DATA_DIR": str(tmp_path / "data")}
    with log.open("wb") as out:
        up = subprocess.Popen(
            ["benchwarden", "up", "--port", str(port), "--project", "p",
             "--database-url", database, "--broker-url", redis.url],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    workers: list[int] = []
    try:
        _wait_for(log, "Ctrl-C stops everything", up, 120)
        workers = _children_of(up.pid)
        assert len(workers) == 2
        token = re.search(r"write token for project 'p': (bw_\S+)", log.read_text()).group(1)  # type: ignore[union-attr]
        sample = (FIXTURES / "pytest-benchmark" / "pytest-benchmark.json").read_bytes()
        posted = requests.post(
            f"http://127.0.0.1:{port}/api/v1/runs",
            params={"project": "p", "commit": "a" * 40},
            data=sample, headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        assert posted.status_code == 201, posted.text
        engine = create_engine(database.replace("postgresql+psycopg", "postgresql+psycopg"))
        deadline = time.monotonic() + 60
        detected = None
        while time.monotonic() < deadline and detected is None:
            with engine.connect() as conn:
                detected = conn.execute(select(Series.detected_at).limit(1)).scalar()
            time.sleep(0.5)
        engine.dispose()
        assert detected is not None, "the service worker never ran detection (via Redis)"
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
        redis.stop()
    assert code == 0, log.read_text()[-3000:]
    assert "benchwarden stopped" in log.read_text()
    time.sleep(1)
    assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == []
