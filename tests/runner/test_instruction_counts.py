"""Per-benchmark instruction counts: one pytest process under callgrind, counted per body.

The suite below is run for real under valgrind; the tests check that each
benchmark gets its own count (not the process's), that the count follows the
work the body does and not its setup, that parameters name the counts as they
name the times, and that a machine that cannot count says why.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

import pytest

from runner.execute import JobLog
from runner.measure import Plan, Side, measure
from runner.suites import Suite

SUITE = """
import pytest


def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def test_small(benchmark):
    benchmark(spin, 20_000)


def test_large(benchmark):
    benchmark(spin, 80_000)


@pytest.mark.parametrize("size", [10_000, 40_000])
def test_sized(benchmark, size):
    benchmark(spin, size)


def busy():
    flag = 0
    for _ in range(300_000):
        flag ^= 1
    return ((10_000,), {})


def test_setup_not_counted(benchmark):
    # the setup does ~20x the body's work; only the body may be counted
    benchmark.pedantic(spin, setup=busy, rounds=3)
"""

pytestmark = pytest.mark.skipif(
    not Path("/usr/include/valgrind/callgrind.h").exists(), reason="needs valgrind (scripts/test)"
)


def _env() -> dict[str, str]:
    """This interpreter first on PATH (a real binary, not a shim) and only pytest-benchmark."""
    bin_dir = str(Path(sys.executable).parent)
    return os.environ | {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONHASHSEED": "0",
    }


def _suite(measures: tuple[str, ...]) -> Suite:
    return Suite(
        name="spin",
        kind="pytest-benchmark",
        target="test_spin.py",
        repeats=2,
        measures=measures,
        # warnings as errors, as many projects run their suites
        args=("-p", "pytest_benchmark.plugin", "--benchmark-max-time=0.01", "-W", "error"),
        timeout=120,
    )


def _measure(tmp_path: Path, measures: tuple[str, ...], env: dict[str, str]) -> Side:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "test_spin.py").write_text(SUITE)
    side = Side("c0", "a" * 40, tree, env)
    plan = Plan([_suite(measures)], "m1", tools_dir=tmp_path / "tools")
    measure([side], plan, JobLog(tmp_path / "log.txt"), tmp_path / "work")
    return side


def _by_name(side: Side, measure_name: str) -> dict[str, list[float]]:
    out = {}
    for record in side.records():
        if record.measure == measure_name:
            label = record.name + (f"[{record.params['size']}]" if record.params else "")
            out[label] = list(record.samples or [])
    return out


def test_each_benchmark_body_is_counted_alone(tmp_path: Path) -> None:
    side = _measure(tmp_path, ("instructions",), _env())
    assert side.errors == []
    counts = _by_name(side, "instructions")
    assert sorted(counts) == [
        "test_large",
        "test_setup_not_counted",
        "test_sized[10000]",
        "test_sized[40000]",
        "test_small",
    ]
    assert _by_name(side, "time") == {}, "a suite that measures instructions only is not timed"
    assert all(len(samples) == 5 for samples in counts.values()), "one sample per counted round"
    median = {name: statistics.median(samples) for name, samples in counts.items()}
    # the count follows the body's work: 4x the loop, ~4x the instructions,
    # with no start-up of the interpreter or pytest in it
    assert median["test_large"] / median["test_small"] == pytest.approx(4.0, rel=0.05)
    assert median["test_sized[40000]"] / median["test_sized[10000]"] == pytest.approx(4.0, rel=0.05)
    # (the interpreter's and pytest's start-up alone are ~10 G instructions)
    assert median["test_small"] < 100_000_000
    # the pedantic setup (~20x the body) is outside the count; what the setup
    # leaves behind (allocator, caches) still moves the body's own count a little
    # (+14% here), far from the 20x of a count that included it
    assert median["test_setup_not_counted"] < 1.5 * median["test_sized[10000]"]
    # deterministic: the rounds agree to well under 0.1 %
    for samples in counts.values():
        assert statistics.pstdev(samples) / statistics.mean(samples) < 0.001


def test_time_and_instructions_side_by_side(tmp_path: Path) -> None:
    side = _measure(tmp_path, ("time", "instructions"), _env())
    assert side.errors == []
    times, counts = _by_name(side, "time"), _by_name(side, "instructions")
    assert sorted(times) == sorted(counts)
    assert all(len(samples) == 2 for samples in times.values()), "one sample per process"


def test_a_machine_without_valgrind_is_told_what_to_install(tmp_path: Path) -> None:
    env = _env()
    env["PATH"] = str(Path(sys.executable).parent)  # python, but no valgrind
    side = _measure(tmp_path, ("instructions",), env)
    assert side.errors, "no count must be an error, not a run with time alone"
    assert "valgrind is not installed (apt-get install valgrind)" in side.errors[0]
