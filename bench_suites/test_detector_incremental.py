"""Cost of appending one point to a 10,000-point series vs a full detection run.

Run: ``pytest bench_suites/test_detector_incremental.py -s``. Target: the append
costs at least 20x less than a full run, with identical change points (the
ratio test is marked xfail while the target is not met; it prints the ratio).
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


@pytest.mark.xfail(
    strict=False,
    reason="target not met yet: measured 8-10x; each append still rescans the O(n) spine "
    "of segments that end at the series end (see bench_suites/README.md)",
)
def test_append_is_20x_cheaper_than_full_run(series: np.ndarray) -> None:
    full, append = [], []
    for _ in range(30):
        start = time.perf_counter()
        expected = detect_change_points(series)
        full.append(time.perf_counter() - start)
        state = ChangePointState(series[:N])
        start = time.perf_counter()
        got = state.append(series[N:])
        append.append(time.perf_counter() - start)
        assert got == expected
    ratio = min(full) / min(append)
    print(f"\nfull {1e3 * min(full):.2f} ms, append {1e3 * min(append):.3f} ms, ratio {ratio:.1f}x")
    assert ratio >= 20
