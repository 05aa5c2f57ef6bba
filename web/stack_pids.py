"""The stack's record of the workers it started, so a restart never doubles them.

`benchwarden up` writes the PID and kernel start time of each worker it starts
into the data directory and removes the file when it stops. A file left behind
means the last stack died without stopping its workers (SIGKILL, a crash). The
children ask for SIGTERM when their parent dies (runner/lifetime.py), but one
in the middle of a job finishes it first; the next start stops whatever of the
recorded workers is still running, by PID and only if the start time matches
(a reused PID is someone else's process), before it starts its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

PIDS_FILE = "stack.pids"


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/PID/stat``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[19])


def record(data_dir: Path, pids: list[int]) -> None:
    entries = [{"pid": pid, "start": start_time(pid)} for pid in pids]
    path = data_dir / PIDS_FILE
    path.write_text(json.dumps(entries))


def forget(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / PIDS_FILE).unlink()


def leftovers(data_dir: Path) -> list[int]:
    """PIDs recorded by a stack that did not stop, still running as the same processes."""
    try:
        entries = json.loads((data_dir / PIDS_FILE).read_text())
    except (OSError, ValueError):
        return []
    alive = []
    for entry in entries if isinstance(entries, list) else []:
        pid, started = entry.get("pid"), entry.get("start")
        if isinstance(pid, int) and started is not None and start_time(pid) == started:
            alive.append(pid)
    return alive


def stop_leftovers(data_dir: Path, grace: float) -> list[int]:
    """Stop the process groups of :func:`leftovers` (SIGTERM, SIGKILL after ``grace``)."""
    pids = leftovers(data_dir)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(start_time(p) is not None for p in pids):
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    forget(data_dir)
    return pids
