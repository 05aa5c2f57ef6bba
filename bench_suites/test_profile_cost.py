"""What the per-function profiles cost (issue 20, item 8): size per result and extra time.

The 100-benchmark suite of ``test_instruction_counts.py`` is counted in
instructions through the runner's own path (``runner.measure.measure``, 5
counted rounds, as a job does), which now reads each benchmark's profile from
its first round's dump. Then, on the same dumps:

* the time the profiles add: reading them (``runner.measure._profiles``, the
  only new work; the dumps were written for the counts already) against the
  whole counting run;
* their size per result: JSON on the wire and zlib-compressed as stored
  (``web.services.profiles.encode_profile``), and the number of functions kept.

Run: ``pytest bench_suites/test_profile_cost.py -s -p no:cacheprovider``; the
figures are printed and kept in the benchmark's ``extra_info``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from test_instruction_counts import BENCHMARKS, _env, _suite, _suite_source

from runner.callgrind import CallgrindRun
from runner.execute import JobLog
from runner.measure import Plan, Side, _profiles, measure
from web.services.profiles import encode_profile

pytestmark = pytest.mark.timeout(1800)


def test_profiles_cost_little_time_and_a_few_kilobytes(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "test_generated.py").write_text(_suite_source())
    side = Side("c0", "a" * 40, tree, _env())
    plan = Plan([_suite(("instructions",))], "bench", tools_dir=tmp_path / "tools")
    started = time.perf_counter()
    measure([side], plan, JobLog(tmp_path / "log.txt"), tmp_path / "job")
    counting = time.perf_counter() - started
    assert side.errors == []
    records = [r for r in side.records() if r.measure == "instructions"]
    profiles = [r.profile for r in records if r.profile is not None]
    assert len(records) == BENCHMARKS and len(profiles) == BENCHMARKS

    run = CallgrindRun(tmp_path / "job" / "callgrind-generated-c0")
    entries = run.benchmarks()
    reading = benchmark.pedantic(
        lambda: _timed(lambda: _profiles(run, entries, str(tree))), rounds=3
    )
    wire = [len(p.model_dump_json()) for p in profiles]
    stored = [len(encode_profile(p)) for p in profiles]
    kept = [len(p.functions) for p in profiles]
    figures = {
        "counting_s": round(counting, 1),
        "reading_profiles_s": round(reading, 2),
        "extra_pct": round(100 * reading / counting, 2),
        "stored_bytes_median": statistics.median(stored),
        "stored_bytes_max": max(stored),
        "wire_bytes_median": statistics.median(wire),
        "functions_median": statistics.median(kept),
    }
    benchmark.extra_info.update(figures)
    print(f"\n100 benchmarks counted in {counting:.1f} s; reading their profiles {reading:.2f} s"
          f" ({figures['extra_pct']} %); stored per result median {figures['stored_bytes_median']}"
          f" B, max {max(stored)} B (wire JSON median {figures['wire_bytes_median']} B,"
          f" {figures['functions_median']} functions kept)")  # fmt: skip
    assert reading < 0.05 * counting
    assert max(stored) < 20_000


def _timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
