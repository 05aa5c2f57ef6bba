"""Runner noise: coefficient of variation over 10 repeats of the demo's ``checksum``.

Each repeat is a separate process started by the runner's own machinery
(`runner.execute.run_command`, `runner.measure.command_instructions`), as a
job would start it:

* wall time without pinning, and pinned to one CPU (``sched_setaffinity``):
  the process times 50 calls of ``checksum()`` and reports the mean;
* instructions under cachegrind (ASLR off, PYTHONHASHSEED=0): the whole
  process, and net of a process that only imports the module.

Run: ``pytest bench_suites/test_runner_noise.py -s``; the figures are printed
and kept in the benchmark's ``extra_info``. Target: instructions CV <= 0.5 %.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from pathlib import Path

import pytest

from runner.execute import JobLog, build_env, run_command
from runner.measure import Side, command_instructions

DEMO = Path(__file__).resolve().parent / "demo"
REPEATS = 10
TIMED = (
    "import json, os, time; from demo_pkg.work import checksum; checksum();"
    " t = time.perf_counter(); [checksum() for _ in range(50)];"
    " json.dump({'s': (time.perf_counter() - t) / 50}, open(os.environ['OUT'], 'w'))"
)


def _cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.fmean(values)


def _wall(tmp: Path, env: dict[str, str], cpus: list[int] | None) -> list[float]:
    log = JobLog(tmp / "wall.log")
    out = tmp / "out.json"
    values = []
    for _ in range(REPEATS):
        run_command(["python", "-c", TIMED], cwd=DEMO, log=log, timeout=120,
                    env={**env, "OUT": str(out)}, cpus=cpus)  # fmt: skip
        values.append(json.loads(out.read_text())["s"])
    return values


def _instructions(tmp: Path, env: dict[str, str], code: str) -> list[float]:
    side = Side("noise", "", DEMO, env)
    log = JobLog(tmp / "cg.log")
    counts = [command_instructions(["python", "-c", code], side, log, tmp, 600)
              for _ in range(REPEATS)]  # fmt: skip
    assert all(c is not None for c in counts), log.tail()
    return [float(c) for c in counts if c is not None]


def measure_noise(tmp: Path) -> dict[str, float]:
    env = build_env(tmp, "none")
    env["PYTHONPATH"] = str(DEMO)
    cpu = sorted(os.sched_getaffinity(0))[-1]
    figures = {
        "wall_cv_unpinned": _cv(_wall(tmp, env, None)),
        "wall_cv_pinned": _cv(_wall(tmp, env, [cpu])),
    }
    if shutil.which("valgrind"):
        run = _instructions(tmp, env, "from demo_pkg.work import checksum; checksum()")
        base = _instructions(tmp, env, "import demo_pkg.work")
        figures["instructions_mean"] = statistics.fmean(run)
        figures["instructions_cv"] = _cv(run)
        figures["instructions_net_cv"] = _cv([r - b for r, b in zip(run, base, strict=True)])
    return figures


def test_runner_noise(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    figures = benchmark.pedantic(measure_noise, args=(tmp_path,), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    for name, value in figures.items():
        shown = f"{value:,.0f}" if name == "instructions_mean" else f"{100 * value:.3f} %"
        print(f"{name}: {shown}")
    if "instructions_cv" not in figures:
        pytest.skip("valgrind is not installed")
    assert figures["instructions_cv"] <= 0.005
