"""`benchwarden demo` end to end, in a fresh directory, as a newcomer runs it, on a busy machine.

The real command runs as a child process: its own web server, service worker
and runner worker on the embedded default, with a CPU-bound process beside it
(a shared CI machine). The demo decides on instruction counts, which the load
does not move. The test waits for the printed alerts URL, checks over HTTP that
the alerts page lists the planted slowdown (confirmed and bisected to the exact
commit) and the planted improvement, then sends SIGTERM and checks that
everything the demo started is gone.
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

from tests.support.servers import free_port
from web.demo_repo import build

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1000)]


def _children_of(pid: int) -> list[int]:
    done = subprocess.run(["ps", "-eo", "pid=,ppid=,pgid=,args="], capture_output=True, text=True)
    ours = []
    for line in done.stdout.splitlines():
        fields = line.split(None, 3)
        if len(fields) == 4 and "web.cli" in fields[3] and fields[1] == str(pid):
            ours.append(int(fields[0]))
    return ours


def _wait_for(
    path: Path,
    pattern: str,
    process: subprocess.Popen[bytes],
    timeout: float,
    port: int | None = None,
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = re.search(pattern, text)
        if found:
            return found.group(0)
        if process.poll() is not None:
            break
        time.sleep(2)
    jobs = f"\njobs: {_jobs(port)}" if port is not None else ""
    raise AssertionError(f"{pattern!r} never appeared:\n{path.read_text()[-4000:]}{jobs}")


def _jobs(port: int) -> str:
    """What the demo's jobs were doing, for the failure message."""
    try:
        found = requests.get(f"http://127.0.0.1:{port}/api/v1/projects/demo/jobs", timeout=10)
        return found.text[-3000:]
    except requests.RequestException as exc:
        return f"unavailable ({exc})"


def test_demo_flags_bisects_and_shows_both_changes(tmp_path: Path) -> None:
    load = subprocess.Popen(["python3", "-c", "while True: pass"])
    started = time.monotonic()
    port = free_port()
    log = tmp_path / "demo.out"
    env = os.environ | {"BENCHWARDEN_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    # the demo's own choice of preflight policy, as a newcomer runs it
    env.pop("BENCHWARDEN_PREFLIGHT", None)
    with log.open("wb") as out:
        demo = subprocess.Popen(
            # more time than a newcomer's default 600 s: a busy CI machine makes the
            # bisection's retries (doubled repeats) slow
            ["benchwarden", "demo", "--port", str(port), "--timeout", "780"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    workers: list[int] = []
    try:
        # longer than the demo's own limit, so that its message (with the jobs) is seen
        alerts_url = _wait_for(log, rf"http://127\.0\.0\.1:{port}/p/demo/alerts", demo, 840, port)
        workers = _children_of(demo.pid)
        assert len(workers) == 2, "a service worker and a runner worker"
        history = build(tmp_path / "data" / "demo" / "repo")  # the same repository, found again
        output = log.read_text(encoding="utf-8")
        assert f"bisected to {history.slowdown_sha[:12]}" in output and "exact commit" in output
        assert "reported as an improvement" in output
        assert "<!-- benchwarden:pr-comment" in output  # the PR comment preview
        page = requests.get(alerts_url, timeout=30)
        assert page.status_code == 200
        culprit = rf"<code data-culprit>{history.slowdown_sha[:7]}[0-9a-f]*</code>"
        assert re.search(culprit, page.text), "the alerts page names the culprit"
        assert "Confirmed by re-runs" in page.text
        rows = re.findall(r'class="num (bad|good)">([+−-]?[\d.]+%)', page.text)
        assert any(kind == "bad" for kind, _ in rows) and any(kind == "good" for kind, _ in rows)
    finally:
        load.kill()
        load.wait()
        print(f"demo finished in {time.monotonic() - started:.0f} s beside a CPU-bound process")
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        code = demo.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    time.sleep(1)
    leftovers = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert leftovers == [], "the demo left worker processes behind"
