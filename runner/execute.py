"""Running suite processes: timeouts, process groups, CPU pinning, logs, valgrind counts.

Every command runs in its own session (process group), so a timeout kills the
whole tree it spawned, not just the shell at its top; it also dies with the
worker that started it (``PR_SET_PDEATHSIG``), so a worker killed mid-job leaves
no benchmark running on the machine. Output of every command is appended to
one job log, whose tail travels with the run and the job state.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

LOG_TAIL_CHARS = 4000
RUN_LOG_CHARS = 100_000
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class CommandResult:
    returncode: int | None
    timed_out: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class JobLog:
    """An append-only log file for one job; `tail` gives what is sent to the service."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")

    def note(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"[benchwarden] {line}\n")

    def size(self) -> int:
        return self.path.stat().st_size

    def since(self, offset: int, chars: int = 20_000) -> str:
        """The log text written after byte ``offset`` (its last ``chars``)."""
        with self.path.open("rb") as handle:
            handle.seek(max(offset, self.size() - chars * 4))
            return handle.read().decode("utf-8", "replace")

    def tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        size = self.path.stat().st_size
        with self.path.open("rb") as handle:
            handle.seek(max(0, size - chars * 4))
            # NUL cannot be stored as text (PostgreSQL): show it as U+FFFD
            text = handle.read().decode("utf-8", "replace").replace("\x00", "\ufffd")
            return text[-chars:]


def _child_setup(cpus: Sequence[int] | None) -> Callable[[], None]:
    """Runs in the child between fork and exec: die with the parent, pin to ``cpus``."""
    libc_name = ctypes.util.find_library("c")
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl if libc_name else None
    cpu_set = set(cpus) if cpus else None

    def setup() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if cpu_set:
            os.sched_setaffinity(0, cpu_set)

    return setup


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    log: JobLog,
    timeout: float,
    env: dict[str, str] | None = None,
    cpus: Sequence[int] | None = None,
) -> CommandResult:
    """Run ``argv`` to completion or ``timeout`` seconds, output appended to ``log``.

    On timeout the whole process group gets SIGKILL (a suite that forks, or a
    shell running a pipeline, leaves nothing behind) and ``timed_out`` is True.
    """
    log.note(f"$ {' '.join(argv)}  (cwd={cwd}, timeout={timeout:g}s, cpus={cpus or 'all'})")
    started = time.monotonic()
    with log.path.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # prctl and affinity must be set in the child itself, before exec.
            preexec_fn=_child_setup(cpus),
        )
        try:
            code: int | None = process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(process)
            code, timed_out = None, True
    seconds = time.monotonic() - started
    if timed_out:
        log.note(f"timed out after {timeout:g}s; killed process group {process.pid}")
    elif code != 0:
        log.note(f"exited with status {code}")
    return CommandResult(code, timed_out, seconds)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def build_env(
    tree: Path,
    kind: str,
    python: str | None = None,
    *,
    system_site_packages: bool = False,
    with_pip: bool = True,
) -> dict[str, str]:
    """The environment suites run in; ``kind="venv"`` makes an isolated venv inside ``tree``.

    The venv is made from ``python`` (``BENCHWARDEN_PYTHON``, else the runner's
    interpreter) and holds only what the suite's ``[env] install`` steps put in
    it; the interpreter's own site-packages only with ``system_site_packages``.
    A job therefore never depends on what happens to be installed on the
    runner, and nothing it installs outlives it. ``with_pip=False`` skips
    installing pip (seconds per venv) when there is nothing to install.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHWARDEN_", "CELERY"))}
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if kind == "venv":
        venv = tree / ".bw-venv"
        options = [
            *(["--system-site-packages"] if system_site_packages else []),
            *([] if with_pip else ["--without-pip"]),
        ]
        subprocess.run(
            [python or sys.executable, "-m", "venv", *options, str(venv)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


_MISSING = re.compile(r"No module named '?([A-Za-z_][\w.]*)'?")
# Import name -> what to install, where the two differ.
_PACKAGES = {"pytest": "pytest-benchmark", "pytest_benchmark": "pytest-benchmark"}


def missing_module_hint(output: str) -> str | None:
    """One line naming the install step a ``No module named X`` failure lacks, else None."""
    found = _MISSING.findall(output)
    if not found:
        return None
    module = found[-1].split(".")[0]
    package = _PACKAGES.get(module, module)
    return (
        f"hint: the job environment has no module {module!r}; add"
        f' "python -m pip install {package}" to [env] install in benchwarden.toml'
        " (job venvs see only what the suite installs; see README, Run your own runners)"
    )


def shell(command: str) -> list[str]:
    return ["/bin/sh", "-c", command]


_I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


@functools.cache
def no_aslr_prefix() -> list[str]:
    """``setarch <arch> -R``: run with address-space randomisation off, where allowed.

    CPython's speed depends on memory layout: with ASLR on, the same benchmark
    lands in one of a few layouts per process (here 1.5 ms or 2.4 ms for the
    demo's checksum, a 25 % CV over processes); with ASLR off and a fixed hash
    seed the per-process CV drops to a few percent. Every commit is measured
    under the same rule, so a change of layout caused by the code still shows.
    """
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    probe = subprocess.run([setarch, platform.machine(), "-R", "true"], capture_output=True)
    return [setarch, platform.machine(), "-R"] if probe.returncode == 0 else []


def valgrind_prefix(log_file: Path) -> list[str]:
    """Prefix counting instructions with cachegrind; ASLR off where setarch allows it.

    Instruction counts are deterministic up to address-dependent work (hashing
    of pointers, allocator layout); disabling ASLR and fixing PYTHONHASHSEED
    removes most of that, which is what makes a sub-percent CV reachable.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise FileNotFoundError("valgrind is not installed (apt-get install valgrind)")
    return [
        *no_aslr_prefix(),
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        f"--log-file={log_file}",
    ]


def read_instructions(log_file: Path) -> int | None:
    """The ``I refs`` total cachegrind wrote to ``log_file``, or None when absent."""
    try:
        match = _I_REFS.search(log_file.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return int(match.group(1).replace(",", "")) if match else None
