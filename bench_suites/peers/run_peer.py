"""Run one peer change-point detector over series read from a JSON file.

Usage: python run_peer.py METHOD INPUT.json [REPEATS]

INPUT.json holds {"series": [[float, ...], ...]}. Prints one JSON object:
{"method", "change_points": [[int, ...], ...], "seconds": [[float, ...], ...]}
where seconds[i] are the per-call wall times (time.perf_counter) of REPEATS
calls on series i. Runs inside the peer's own virtual environment, so it
imports nothing from this repository.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import numpy as np


def _otava() -> Callable[[list[float]], list[int]]:
    from otava.analysis import compute_change_points

    def run(series: list[float]) -> list[int]:
        cps, _ = compute_change_points(series)  # defaults: window 50, p 0.001
        return sorted(int(cp.index) for cp in cps)

    return run


def _mongodb() -> Callable[[list[float]], list[int]]:
    from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive

    def run(series: list[float]) -> list[int]:
        np.random.seed(0)  # e_divisive permutes with numpy's global generator
        return sorted(int(c) for c in e_divisive(np.asarray(series), pvalue=0.05, permutations=100))

    return run


def _ruptures(kind: str) -> Callable[[list[float]], list[int]]:
    import ruptures as rpt

    def run(series: list[float]) -> list[int]:
        x = np.asarray(series, dtype=float)
        n = len(x)
        if n < 4:
            return []
        # BIC-like penalty for a mean shift under the l2 cost: 2 sigma^2 log n,
        # sigma from the MAD of first differences (robust to the shifts).
        sigma = 1.4826 * float(np.median(np.abs(np.diff(x)))) / np.sqrt(2.0)
        pen = max(2.0 * sigma**2 * np.log(n), 1e-12)
        cls = rpt.Binseg if kind == "binseg" else rpt.Pelt
        algo = cls(model="l2", min_size=2)
        return [int(b) for b in algo.fit(x).predict(pen=pen) if b < n]

    return run


METHODS: dict[str, Callable[[], Callable[[list[float]], list[int]]]] = {
    "otava": _otava,
    "mongodb": _mongodb,
    "ruptures-binseg": lambda: _ruptures("binseg"),
    "ruptures-pelt": lambda: _ruptures("pelt"),
}


def main(argv: list[str]) -> int:
    method, path = argv[1], argv[2]
    repeats = int(argv[3]) if len(argv) > 3 else 1
    with open(path, encoding="utf-8") as fh:
        all_series = json.load(fh)["series"]
    run = METHODS[method]()
    out_cps, out_times = [], []
    for series in all_series:
        series = [float(v) for v in series]
        times = []
        cps: list[int] = []
        for _ in range(repeats):
            start = time.perf_counter()
            cps = run(series)
            times.append(time.perf_counter() - start)
        out_cps.append(cps)
        out_times.append(times)
    json.dump({"method": method, "change_points": out_cps, "seconds": out_times}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
