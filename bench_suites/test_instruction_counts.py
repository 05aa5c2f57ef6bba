"""Per-benchmark instruction counts on a busy machine: cost and noise (issue 20, item 2).

A generated pytest-benchmark suite of 100 benchmarks (loops, sorting, dicts,
strings, of five sizes) is measured through the runner's own path
(`runner.measure.measure`, as a job runs it):

* its plain pytest-benchmark run (default settings, what a project runs today),
  timed wall clock;
* the same suite counted in instructions: one process under callgrind, each
  benchmark body counted in 5 rounds; timed wall clock, target <= 3x the plain run;
* 10 counting runs of the first 20 benchmarks with a CPU-bound process beside
  them: the CV over runs of each benchmark's count (target <= 0.1%), and beside
  it the CV of the same benchmarks' wall time over 10 timed processes.

Run: ``pytest bench_suites/test_instruction_counts.py -s``; the figures are
printed and kept in the benchmark's ``extra_info``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.execute import JobLog
from runner.measure import Plan, Side, measure
from runner.suites import Suite

# the plain run alone times 100 benchmarks for ~1 s each
pytestmark = pytest.mark.timeout(2400)

BENCHMARKS = 100
NOISE_RUNS = 10
NOISE_BENCHMARKS = 20
KINDS = ("loop", "sort", "dict", "text")
SIZES = (500, 1_000, 2_000, 4_000, 8_000)

SUITE_HEAD = """
import pytest


def loop(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total


def sort(n):
    return sorted((i * 7919) % n for i in range(n))


def dict_(n):
    table = {str(i): i for i in range(n)}
    return sum(table[str(i)] for i in range(0, n, 3))


def text(n):
    return "-".join(str(i) for i in range(n)).upper().count("1")


WORK = {"loop": loop, "sort": sort, "dict": dict_, "text": text}
"""


def _suite_source() -> str:
    lines = [SUITE_HEAD]
    for index in range(BENCHMARKS):
        kind = KINDS[index % len(KINDS)]
        size = SIZES[(index // len(KINDS)) % len(SIZES)] + index
        lines.append(
            f"\n\ndef test_{index:03d}_{kind}(benchmark):\n    benchmark(WORK[{kind!r}], {size})\n"
        )
    return "".join(lines)


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return os.environ | {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONHASHSEED": "0",
    }


def _suite(measures: tuple[str, ...], repeats: int = 1, names: str = "", *extra: str) -> Suite:
    args = ("-p", "pytest_benchmark.plugin", *extra) + (("-k", names) if names else ())
    return Suite(name="generated", kind="pytest-benchmark", target="test_generated.py",
                 repeats=repeats, measures=measures, args=args, timeout=1800)  # fmt: skip


def _measure(tree: Path, work: Path, suite: Suite) -> tuple[Side, float]:
    side = Side("c0", "a" * 40, tree, _env())
    plan = Plan([suite], "bench", tools_dir=work / "tools")
    started = time.perf_counter()
    measure([side], plan, JobLog(work / "log.txt"), work / "job")
    elapsed = time.perf_counter() - started
    assert side.errors == [], (work / "log.txt").read_text()[-3000:]
    return side, elapsed


def _values(side: Side, measure_name: str) -> dict[str, float]:
    return {r.name: float(r.value or 0) for r in side.records() if r.measure == measure_name}


@pytest.fixture()
def busy() -> Iterator[None]:
    """A CPU-bound process beside the measurement, as on a shared CI machine."""
    load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        load.kill()
        load.wait()


def _cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.fmean(values)


def test_a_100_benchmark_suite_counted_in_under_3x_its_plain_run(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "test_generated.py").write_text(_suite_source())
    plain_side, plain = _measure(tree, tmp_path / "plain", _suite(("time",)))
    counted_side, counted = benchmark.pedantic(
        _measure, args=(tree, tmp_path / "counted", _suite(("instructions",))), rounds=1
    )
    assert len(_values(plain_side, "time")) == BENCHMARKS
    assert len(_values(counted_side, "instructions")) == BENCHMARKS
    ratio = counted / plain
    benchmark.extra_info.update(plain_s=round(plain, 1), counted_s=round(counted, 1),
                                ratio=round(ratio, 2))  # fmt: skip
    print(f"\n100 benchmarks: plain pytest-benchmark {plain:.1f} s,"
          f" counted under callgrind {counted:.1f} s ({ratio:.2f}x)")  # fmt: skip
    assert ratio <= 3.0


def test_counts_hold_still_on_a_busy_machine_where_time_does_not(  # type: ignore[no-untyped-def]
    benchmark, tmp_path: Path, busy: None
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "test_generated.py").write_text(_suite_source())
    names = " or ".join(f"test_{i:03d}_" for i in range(NOISE_BENCHMARKS))
    counts: dict[str, list[float]] = {}

    def count_runs() -> None:
        for run in range(NOISE_RUNS):
            side, _ = _measure(
                tree, tmp_path / f"count-{run}", _suite(("instructions",), names=names)
            )
            for name, value in _values(side, "instructions").items():
                counts.setdefault(name, []).append(value)

    benchmark.pedantic(count_runs, rounds=1)
    # each process times each benchmark for 0.2 s: the wall-time CV beside the counts
    quick = _suite(("time",), NOISE_RUNS, names, "--benchmark-max-time=0.2")
    timed, _ = _measure(tree, tmp_path / "timed", quick)
    time_cv = {r.name: _cv(list(r.samples or [])) for r in timed.records() if r.measure == "time"}
    count_cv = {name: _cv(values) for name, values in counts.items()}
    assert len(count_cv) == NOISE_BENCHMARKS and len(time_cv) == NOISE_BENCHMARKS
    worst_count, median_time = max(count_cv.values()), statistics.median(time_cv.values())
    benchmark.extra_info.update(
        worst_instructions_cv_pct=round(100 * worst_count, 4),
        median_instructions_cv_pct=round(100 * statistics.median(count_cv.values()), 4),
        median_time_cv_pct=round(100 * median_time, 2),
        worst_time_cv_pct=round(100 * max(time_cv.values()), 2),
    )
    print(f"\nbeside a CPU-bound process, over {NOISE_RUNS} runs of {NOISE_BENCHMARKS} benchmarks:"
          f" instructions CV worst {worst_count:.4%}, median"
          f" {statistics.median(count_cv.values()):.4%}; wall time CV median {median_time:.2%},"
          f" worst {max(time_cv.values()):.2%}")  # fmt: skip
    assert worst_count <= 0.001
