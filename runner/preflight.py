"""Pre-flight noise checks, recorded with every run, and the machine's policy on them.

What pyperf's ``system tune`` would fix, we check and record: load average,
CPU frequency governor and turbo (where the kernel exposes them), ASLR, free
memory and other busy processes. Values the OS hides are recorded as None and
never count as a problem. The policy decides what a problem does:
``warn`` records it and runs, ``wait`` re-checks until the machine is quiet
(or the wait runs out, then runs with the warning), ``refuse`` fails the job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

POLICIES = ("warn", "wait", "refuse")
# A dedicated runner (``benchwarden worker``) measures nothing but benchmarks, so
# it can afford to wait for a quiet machine: a run measured under load reads
# 1.4-1.7x slow on every benchmark and is left out of detection anyway. CI jobs
# that post with ``benchwarden submit`` measured before we see them; their runs
# are recorded as they come.
WORKER_DEFAULT_POLICY = "wait"
MIN_FREE_BYTES = 512 * 1024 * 1024
_CPU = Path("/sys/devices/system/cpu")


class PreflightRefused(RuntimeError):
    """The machine is too noisy and its policy is ``refuse``."""


@dataclass(frozen=True)
class Preflight:
    load_1m: float | None
    cpus: int | None
    governors: list[str] | None
    turbo: bool | None
    aslr: int | None
    free_bytes: int | None
    busy_processes: list[str]
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _governors() -> list[str] | None:
    found = sorted({g for p in _CPU.glob("cpu[0-9]*/cpufreq/scaling_governor") if (g := _read(p))})
    return found or None


def _turbo() -> bool | None:
    no_turbo = _read(_CPU / "intel_pstate/no_turbo")
    if no_turbo is not None:
        return no_turbo == "0"
    boost = _read(_CPU / "cpufreq/boost")
    return None if boost is None else boost == "1"


def _free_bytes() -> int | None:
    text = _read(Path("/proc/meminfo")) or ""
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def busy_processes(ignore: set[int] | None = None) -> list[str]:
    """Processes other than ours that are running on a CPU right now (state R)."""
    mine = {os.getpid(), os.getppid(), *(ignore or set())}
    busy = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        text = _read(stat)
        if not text or ") " not in text:
            continue
        pid = int(stat.parent.name)
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if rest.startswith("R") and pid not in mine:
            busy.append(f"{pid}:{name}")
    return sorted(busy)


def check(max_load: float = 0.5) -> Preflight:
    """Read the machine's state now; ``max_load`` is per CPU."""
    cpus = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    aslr_raw = _read(Path("/proc/sys/kernel/randomize_va_space"))
    result = Preflight(
        load_1m=load,
        cpus=cpus,
        governors=_governors(),
        turbo=_turbo(),
        aslr=int(aslr_raw) if aslr_raw and aslr_raw.isdigit() else None,
        free_bytes=_free_bytes(),
        busy_processes=busy_processes(),
    )
    return Preflight(**{**asdict(result), "problems": _problems(result, max_load)})


def _problems(p: Preflight, max_load: float) -> list[str]:
    problems = []
    if p.load_1m is not None and p.cpus and p.load_1m > max_load * p.cpus:
        problems.append(f"load average {p.load_1m:.2f} on {p.cpus} CPUs")
    if p.governors and p.governors != ["performance"]:
        problems.append(f"CPU governor {','.join(p.governors)} (not performance)")
    if p.turbo:
        problems.append("turbo boost is on")
    if p.aslr:
        problems.append(f"ASLR is on (randomize_va_space={p.aslr})")
    if p.free_bytes is not None and p.free_bytes < MIN_FREE_BYTES:
        problems.append(f"only {p.free_bytes // 2**20} MiB memory free")
    if p.busy_processes:
        problems.append(f"{len(p.busy_processes)} other busy process(es)")
    return problems


def enforce(
    policy: str,
    *,
    max_wait: float = 300.0,
    poll: float = 5.0,
    probe: Callable[[], Preflight] = check,
    note: Callable[[str], None] = lambda _line: None,
) -> Preflight:
    """Apply ``policy`` to the machine's state; return the checks the run is recorded with."""
    if policy not in POLICIES:
        raise ValueError(f"preflight policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    result = probe()
    deadline = time.monotonic() + max_wait
    while result.problems and policy == "wait" and time.monotonic() < deadline:
        note(f"preflight: waiting for a quiet machine: {'; '.join(result.problems)}")
        time.sleep(poll)
        result = probe()
    if result.problems:
        note(f"preflight ({policy}): {'; '.join(result.problems)}")
        if policy == "refuse":
            raise PreflightRefused("machine too noisy: " + "; ".join(result.problems))
    return result
