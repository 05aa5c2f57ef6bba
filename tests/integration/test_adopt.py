"""Adopting a real project: bidict's released history, backfilled through `benchwarden up`.

The history is built from bidict's sdists on the package index
(`tests.fixtures.adopt`, cached after the first download; the test skips only
when the index cannot be reached). It has no benchwarden.toml, so the project
is registered as an adopter does it, with the CLI and an outside config
(`project suites --set`). `benchwarden up` runs as a child process on its own
data directory; every release is scheduled through its real runner. Then:
every job done,
the stored commits are the history's own SHAs, every series has one point per
commit, and an alert lands at 0.19.0, the release whose changelog entry says
dropping Python 2 "makes bidict more efficient on Python 3". The command is
stopped by its PID and its workers must be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.fixtures import adopt
from tests.integration.test_demo import _children_of, _wait_for
from tests.support.servers import free_port
from web.models import Alert, Benchmark, Commit, Measure, Series

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

PROJECT = "bidict"
FINAL = ("done", "failed", "cancelled")


def _history(tmp_path: Path) -> adopt.History:
    try:
        return adopt.build(tmp_path / PROJECT)
    except adopt.IndexUnreachable as exc:
        reason = f"the package index is unreachable, no {PROJECT} history to adopt: {exc}"
        print(reason)
        pytest.skip(reason)


def _cli(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["benchwarden", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"benchwarden {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _register(env: dict[str, str], history: adopt.History, tmp_path: Path) -> None:
    """What an adopter types before starting the service (README: Adopt an existing project)."""
    suites = tmp_path / "bidict-suites.toml"
    suites.write_text(adopt.SUITES, encoding="utf-8")
    _cli(env, "db", "upgrade")
    _cli(env, "project", "create", PROJECT, "--repo-url", str(history.path))
    _cli(env, "project", "suites", PROJECT, "--set", str(suites))
    # Ten releases: segments of 3 points and a looser test, as for the demo's 10 points.
    # Speed-ups are listed, not re-run (confirming each would add ~100 s jobs here).
    detector = ("detector.min_segment=3", "detector.alpha=0.2", "bisect_improvements=1")
    _cli(env, "project", "set", PROJECT, *detector)


def _jobs(port: int) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/projects/{PROJECT}/jobs"
    answer = requests.get(url, params={"limit": 500}, timeout=30)
    answer.raise_for_status()
    return list(answer.json()["jobs"])


def _settle(port: int, timeout: float) -> list[dict[str, Any]]:
    """Jobs once every one has ended and no new one came for 20 s (detection's follow-ups)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        jobs = _jobs(port)
        if all(job["state"] in FINAL for job in jobs) and len(jobs) == seen:
            return jobs
        seen = len(jobs) if all(job["state"] in FINAL for job in jobs) else -1
        time.sleep(20)
    raise AssertionError(f"jobs still running after {timeout:.0f} s: {_jobs(port)}")


def _points(port: int) -> dict[str, list[str]]:
    """Every series' point SHAs in order, by '<benchmark>[<params>] <measure>'."""
    base = f"http://127.0.0.1:{port}/api/v1/projects/{PROJECT}/series"
    out = {}
    for series in requests.get(base, timeout=30).json()["series"]:
        detail = requests.get(f"{base}/{series['id']}", timeout=30).json()
        name = _named(series["benchmark"], series["params"])
        out[f"{name} {series['measure']}"] = detail["points"]["sha"]
    return out


def _named(benchmark: str, params: dict[str, str]) -> str:
    return f"{benchmark}[{','.join(params.values())}]" if params else benchmark


def _alerts(database: str, history: adopt.History) -> list[tuple[str, str, str, float]]:
    """Active alerts as (benchmark, measure, first changed release, relative change)."""
    engine = create_engine(database)
    query = (
        select(Benchmark.name, Benchmark.params, Measure.name, Commit.sha, Alert.rel_change)
        .join(Series, Series.id == Alert.series_id)
        .join(Benchmark, Benchmark.id == Series.benchmark_id)
        .join(Measure, Measure.id == Series.measure_id)
        .join(Commit, Commit.id == Alert.first_commit_id)
        .where(Alert.active)
    )
    try:
        with Session(engine) as session:
            rows = session.execute(query).all()
    finally:
        engine.dispose()
    release = dict(zip(history.shas, history.versions, strict=True))
    return [
        (_named(name, params), measure, release.get(sha, sha), change)
        for name, params, measure, sha, change in rows
    ]


def test_backfilled_bidict_releases_alert_at_the_documented_speedup(tmp_path: Path) -> None:
    started = time.monotonic()
    history = _history(tmp_path)
    data = tmp_path / "data"
    env = os.environ | {"BENCHWARDEN_DATA_DIR": str(data), "COLUMNS": "160"}
    _register(env, history, tmp_path)
    port = free_port()
    log = tmp_path / "up.out"
    with log.open("wb") as out:
        command = ["benchwarden", "up", "--project", PROJECT, "--port", str(port)]
        up = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    workers: list[int] = []
    try:
        _wait_for(log, "Ctrl-C stops everything", up, 120)
        workers = _children_of(up.pid)
        backfill = ("--commits", "..main", "--wait", "--timeout", "1800")
        _cli(env, "schedule", "--project", PROJECT, *backfill, timeout=1900)
        jobs = _settle(port, 900)
        points = _points(port)
        alerts = _alerts(f"sqlite:///{data / 'benchwarden.db'}", history)
    finally:
        print(f"adoption backfill finished in {time.monotonic() - started:.0f} s")
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
    for name, measure, release, change in sorted(alerts):
        print(f"alert: {name} ({measure}) at {release}: {change:+.1%}")
    assert code == 0, log.read_text()[-3000:]
    time.sleep(1)
    assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == []

    assert [job for job in jobs if job["state"] != "done"] == []
    assert {job["commit"] for job in jobs if job["kind"] == "run"} == set(history.shas)
    log_of_main = ["git", "-C", str(history.path), "rev-list", "--reverse", "main"]
    unchanged = subprocess.run(log_of_main, capture_output=True, text=True, check=True)
    assert unchanged.stdout.split() == list(history.shas)
    assert points, "no series stored"
    # one point per commit, in the history's order, in every series
    assert {name: shas for name, shas in points.items() if shas != list(history.shas)} == {}
    at_change = [a for a in alerts if a[2] == adopt.CHANGED and a[3] < 0]
    assert at_change, f"no speed-up alert at {adopt.CHANGED}: {alerts}"
