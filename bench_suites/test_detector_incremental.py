"""Cost of appending one point to a 10,000-point series vs a full detection run.

Run: ``pytest bench_suites/test_detector_incremental.py -s``. Target: the append
costs at least 20x less than a full run, with identical change points. The
append benchmark asserts the ratio of the fastest append to the fastest of 30
full runs in the same process (fastest calls: the least noisy estimate on a
shared machine) and records it as ``extra_info["ratio"]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from detector import ChangePointState, detect_change_points

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_detector_speed import planted

N = 10_000


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    return planted(N + 1)[0]


def test_full_run(benchmark, series: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    benchmark(detect_change_points, series)


def test_append_one_point(benchmark, series: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    def setup() -> tuple[tuple[ChangePointState], dict[str, object]]:
        return (ChangePointState(series[:N]),), {}

    result = benchmark.pedantic(
        lambda state: state.append(series[N:]), setup=setup, rounds=60, iterations=1
    )
    assert result == detect_change_points(series)
    full = []
    for _ in range(30):
        start = time.perf_counter()
        detect_change_points(series)
        full.append(time.perf_counter() - start)
    ratio = min(full) / benchmark.stats.stats.min
    benchmark.extra_info["ratio"] = ratio
    print(
        f"\nfull {1e3 * min(full):.2f} ms, append {1e3 * benchmark.stats.stats.min:.3f} ms,"
        f" ratio {ratio:.1f}x"
    )
    assert ratio >= 20, f"append only {ratio:.1f}x cheaper than a full run (target 20x)"
