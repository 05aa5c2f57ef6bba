"""`benchwarden up` killed with SIGKILL: its workers go with it, and a restart
keeps one set of workers and the same write token.

Runs on the embedded default (SQLite database and broker in a data directory),
as a new user runs it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from tests.integration.test_demo import _children_of, _wait_for
from tests.support.servers import free_port
from web.models import ApiToken

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TOKEN = r"write token for project 'p': (bw_\S+)"


def _start(tmp_path: Path, port: int, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / name
    env = os.environ | {"BENCHWARDEN_DATA_DIR": str(tmp_path / "data")}
    with log.open("wb") as out:
        up = subprocess.Popen(
            ["benchwarden", "up", "--port", str(port), "--project", "p"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _wait_for(log, "Ctrl-C stops everything", up, 120)
    return up, log


def _gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _running(pid)]
        if not alive:
            break
        time.sleep(0.2)
    return alive


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_up_takes_its_workers_and_a_restart_reuses_its_token(tmp_path: Path) -> None:
    port = free_port()
    first, log = _start(tmp_path, port, "first.out")
    workers = _children_of(first.pid)
    try:
        assert len(workers) == 2
        token = re.search(TOKEN, log.read_text()).group(1)  # type: ignore[union-attr]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert _gone(workers, 60) == [], "workers outlived the killed `up`"
    finally:
        for pid in workers:
            if _running(pid):
                os.killpg(pid, signal.SIGKILL)
    second, log = _start(tmp_path, port, "second.out")
    try:
        assert len(_children_of(second.pid)) == 2
        assert re.search(TOKEN, log.read_text()).group(1) == token  # type: ignore[union-attr]
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'benchwarden.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 1
    engine.dispose()
    assert (tmp_path / "data" / "up-tokens.json").stat().st_mode & 0o077 == 0


def test_a_restart_stops_workers_left_running_by_an_earlier_start(tmp_path: Path) -> None:
    """A worker that survived (here: told to ignore its parent's death) is stopped
    by the next start, by the PID recorded in the data directory."""
    data = tmp_path / "data"
    data.mkdir()
    orphan = subprocess.Popen(["sleep", "300"], start_new_session=True, stdout=subprocess.DEVNULL)
    from web.stack_pids import record

    record(data, [orphan.pid])
    port = free_port()
    up, log = _start(tmp_path, port, "up.out")
    try:
        assert orphan.wait(timeout=30) is not None
        assert "stopped 1 worker left running by an earlier start" in log.read_text()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
        if orphan.poll() is None:
            orphan.kill()
