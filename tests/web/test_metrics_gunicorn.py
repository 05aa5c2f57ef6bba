"""/metrics under gunicorn with two workers: every worker's requests are summed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.support.servers import _wait_for_port, free_port
from web.migrations import upgrade

pytestmark = pytest.mark.slow


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "benchwarden_http_requests_total" and sample.labels == {
                "route": "/healthz",
                "method": "GET",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_two_workers_requests_are_summed(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'bw.db'}"
    upgrade(database)
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    port = free_port()
    env = os.environ | {
        "BENCHWARDEN_DATA_DIR": str(tmp_path),
        "BENCHWARDEN_DATABASE_URL": database,
        "BENCHWARDEN_SECRET_KEY": "t",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
    }
    # sync workers take one connection at a time, so parallel requests reach both
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
        "--workers", "2", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning", "web:create_app()",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_port(port, 30)
        sent = 0
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(8) as pool:
            per_worker: list[float] = []
            while time.monotonic() < deadline:
                statuses = list(pool.map(lambda _: _get(f"{url}/healthz"), range(40)))
                assert statuses == [200] * 40
                sent += 40
                per_worker = _per_worker_counts(multiproc)
                if len([count for count in per_worker if count > 0]) == 2:
                    break
        assert sorted(count > 0 for count in per_worker) == [True, True], per_worker
        assert sum(per_worker) == sent
        text = requests.get(f"{url}/metrics", timeout=10).text
        assert healthz_count(text) == sent
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            _, err = process.communicate()
    assert b"Traceback" not in err, err.decode()


def _get(url: str) -> int:
    return requests.get(url, timeout=10).status_code


def _per_worker_counts(directory: Path) -> list[float]:
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    """The /healthz count each worker's own file holds (files are ``counter_<pid>.db``)."""
    counts = []
    for path in directory.glob("counter_*.db"):
        single = Path(tempfile.mkdtemp(dir=directory.parent))
        (single / path.name).write_bytes(path.read_bytes())
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(single))  # type: ignore[no-untyped-call]
        value = registry.get_sample_value(
            "benchwarden_http_requests_total",
            {"route": "/healthz", "method": "GET", "status": "200"},
        )
        counts.append(value or 0.0)
    return counts
