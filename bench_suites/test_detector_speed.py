"""Detector speed and accuracy against Otava and MongoDB's e_divisive, same run, same series.

Run: ``pytest bench_suites/test_detector_speed.py`` (add ``--benchmark-only`` to
skip the comparison test). Peers run in their own virtual environments under
``bench_suites/.venvs/`` (created on first use), through
``bench_suites/peers/run_peer.py``, which times each call itself and reports
JSON; every detector reads the same series from one temporary file. Both sides are
compared by their fastest call (the least noisy estimate on a shared machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench_suites.accuracy.metrics import f_measure
from detector import detect_change_points

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import venvs

SIZES = (100, 1_000, 10_000, 20_000)
PEER_LIMITS = {"otava": 20_000, "mongodb": 5_000}  # e_divisive is O(n^2) in memory
PEER_REPEATS = {"otava": 5, "mongodb": 1}


def planted(n: int, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """Steps every ~n/8 points (5–15 % moves, at least 5 noise sigmas) on 1 % noise,
    plus a few 2-point spikes; returns (values, true change indices)."""
    rng = np.random.default_rng(seed + n)
    count = max(1, min(12, n // 50))
    cps = sorted(set(int(c) for c in np.linspace(0, n, count + 2)[1:-1]))
    level = np.full(n, 100.0)
    for cp in cps:
        level[cp:] *= 1 + rng.choice([-1, 1]) * rng.uniform(0.05, 0.15)
    values = level * (1 + 0.01 * rng.standard_normal(n))
    for start in rng.integers(0, n - 2, 3):
        values[start : start + 2] *= 1.3
    return values, cps


@pytest.fixture(scope="module")
def series_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("series") / "series.json"
    path.write_text(json.dumps({"series": [planted(n)[0].tolist() for n in SIZES]}))
    return path


def run_peer(method: str, path: Path, sizes: tuple[int, ...]) -> dict[int, tuple[float, list[int]]]:
    """{size: (fastest seconds per call, change points)} for ``method``; skips the
    test with the reason when the peer cannot be installed."""
    python, reason = venvs.python_for(method)
    if python is None:
        print(f"skipping {method}: {reason}")
        pytest.skip(f"{method}: {reason}")
    data = json.loads(path.read_text())["series"]
    keep = [s for s in data if len(s) in sizes]
    sub = path.with_name(f"{method}.json")
    sub.write_text(json.dumps({"series": keep}))
    proc = subprocess.run(
        [python, str(venvs.RUNNER), method, str(sub), str(PEER_REPEATS[method])],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    out = json.loads(proc.stdout)
    return {
        len(s): (float(np.median(t)), cps)
        for s, t, cps in zip(keep, out["seconds"], out["change_points"], strict=True)
    }


def ours(
    path: Path, sizes: tuple[int, ...], repeats: int = 7
) -> dict[int, tuple[float, list[int]]]:
    result = {}
    for s in json.loads(path.read_text())["series"]:
        if len(s) not in sizes:
            continue
        x = np.asarray(s)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            cps = detect_change_points(x)
            times.append(time.perf_counter() - start)
        result[len(s)] = (float(np.min(times)), [c.index for c in cps])
    return result


def f1(n: int, found: list[int]) -> float:
    return f_measure({"truth": planted(n)[1]}, found, margin=5, zero_convention=False)[0]


@pytest.mark.parametrize("n", SIZES)
def test_detector_speed(benchmark, n: int) -> None:  # type: ignore[no-untyped-def]
    values, _ = planted(n)
    cps = benchmark(detect_change_points, values)
    benchmark.extra_info["f1"] = f1(n, [c.index for c in cps])
    assert benchmark.extra_info["f1"] >= 0.9


@pytest.mark.parametrize("peer", ["otava", "mongodb"])
def test_faster_than_peers_with_equal_or_better_f1(series_file: Path, peer: str) -> None:
    sizes = tuple(n for n in SIZES if n <= PEER_LIMITS[peer])
    theirs = run_peer(peer, series_file, sizes)
    mine = ours(series_file, sizes)
    print(f"\n| n | benchwarden ms | {peer} ms | speed-up | F1 ours | F1 {peer} |")
    for n in sizes:
        (t_me, c_me), (t_them, c_them) = mine[n], theirs[n]
        print(
            f"| {n} | {1e3 * t_me:.2f} | {1e3 * t_them:.1f} | {t_them / t_me:.0f}x"
            f" | {f1(n, c_me):.3f} | {f1(n, c_them):.3f} |"
        )
    for n in sizes:
        assert f1(n, mine[n][1]) >= f1(n, theirs[n][1])
        if peer == "otava" and n in (1_000, 20_000):
            assert theirs[n][0] >= 10 * mine[n][0], f"not 10x faster than otava at {n}"
