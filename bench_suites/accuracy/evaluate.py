"""Accuracy harness of the detector.

Run: ``python -m bench_suites.accuracy.evaluate [--peers LIST] [--count N] [--ceiling]``.

Scores the detector with default thresholds on the TCPD series in
``../shared/datasets/tcpd/`` (beside the repository root) and on generated
benchmark-like series (:mod:`bench_suites.accuracy.synthetic`), next to a "no change points"
baseline, TCPDBench's binseg-default (:mod:`bench_suites.accuracy.evaluate_binseg`) and,
where available, peers run in their own environments by
``bench_suites/peers/run_peer.py``: Otava, MongoDB's e_divisive and ruptures'
Binseg and PELT. This is the only detector module that does I/O.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench_suites.accuracy.evaluate_binseg import binseg_default
from bench_suites.accuracy.evaluate_ceiling import describe, tuning_ceiling
from bench_suites.accuracy.evaluate_report import Scores, score_synthetic, score_tcpd, table
from bench_suites.accuracy.synthetic import suite
from detector.changepoint import detect_changes

ROOT = Path(__file__).resolve().parents[2]
TCPD = ROOT.parent / "shared" / "datasets" / "tcpd"
PEERS = ("otava", "mongodb", "ruptures-binseg", "ruptures-pelt")
#: per series: step indices; seconds in all; per series (first, last) of each drift, or None
Run = tuple[list[list[int]], float, list[list[tuple[int, int]]] | None]
Detector = Callable[[list[list[float]]], Run]


def load_tcpd(root: Path = TCPD) -> list[tuple[str, list[list[float]], dict[str, list[int]]]]:
    """(name, columns, annotations) per series. Missing values (only in
    ``uk_coal_employ``) are filled by linear interpolation so indices keep
    their meaning; multivariate series give one column per dimension."""
    annotations = json.loads((root / "annotations.json").read_text())
    out = []
    for path in sorted((root / "series").glob("*.json")):
        data = json.loads(path.read_text())
        cols = []
        for dim in data["series"]:
            v = np.array([np.nan if r is None else r for r in dim["raw"]], dtype=float)
            ok = ~np.isnan(v)
            if not ok.all():
                idx = np.arange(v.shape[0])
                v = np.interp(idx, idx[ok], v[ok])
            cols.append([float(a) for a in v])
        out.append((data["name"], cols, annotations[data["name"]]))
    return out


def timed(locate: Callable[[list[float]], list[int]]) -> Detector:
    """A detector for the harness: ``locate`` on every series, and the time it all took."""

    def run(series: list[list[float]]) -> Run:
        start = time.perf_counter()
        found = [locate(s) for s in series]
        return found, time.perf_counter() - start, None

    return run


def ours(series: list[list[float]]) -> Run:
    """This detector: steps, and drifts as drifts."""
    start = time.perf_counter()
    found = [detect_changes(s) for s in series]
    seconds = time.perf_counter() - start
    steps = [[c.index for c in f.steps] for f in found]
    return steps, seconds, [[(d.start, d.end) for d in f.drifts] for f in found]


def nothing(series: list[list[float]]) -> Run:
    return [[] for _ in series], 0.0, None


def peer(method: str) -> Detector | str:
    """A detector running ``method`` in its environment, or the reason it cannot run."""
    sys.path.insert(0, str(ROOT / "bench_suites" / "peers"))
    try:
        import venvs
    finally:
        sys.path.pop(0)
    python, reason = venvs.python_for(method, create=False)
    if python is None:
        return str(reason)

    def run(series: list[list[float]]) -> Run:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump({"series": series}, fh)
        proc = subprocess.run(
            [python, str(venvs.RUNNER), method, fh.name],
            capture_output=True,
            text=True,
            check=False,
        )
        Path(fh.name).unlink()
        if proc.returncode != 0:
            raise RuntimeError(f"{method} failed: {proc.stderr.strip()[-500:]}")
        result = json.loads(proc.stdout)
        return result["change_points"], float(sum(sum(t) for t in result["seconds"])), None

    return run


def evaluate(methods: dict[str, Detector], count: int, seed: int) -> list[Scores]:
    """Run every method on both data sets (peers two at a time) and score them."""
    tcpd = load_tcpd()
    flat = [col for _, cols, _ in tcpd for col in cols]
    synth = suite(seed=seed, count=count)
    synth_values = [[float(v) for v in s.values] for s in synth]

    def one(item: tuple[str, Detector]) -> Scores:
        name, run = item
        tcpd_found, t1, _ = run(flat)
        synth_found, t2, drifts = run(synth_values)
        f1, f1_no0, cover = score_tcpd(tcpd, tcpd_found)
        sy = score_synthetic(synth, synth_found, drifts)
        return Scores(
            name,
            f1,
            f1_no0,
            cover,
            sy.f1,
            sy.f1_no0,
            sy.cover,
            sy.false_alarms,
            sy.drift_alarms,
            sy.excursion_recall,
            sy.drift_recall,
            sy.recall_by_step,
            sy.median_error,
            t1 + t2,
            sy.by_scenario,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, methods.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--peers", default="auto", help="auto, none, or a comma list of " + ",".join(PEERS)
    )
    parser.add_argument("--count", type=int, default=400, help="synthetic series")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also score a grid of thresholds on TCPD: best single setting and per-series oracle",
    )
    args = parser.parse_args(argv)
    if not TCPD.is_dir():
        parser.error(f"TCPD data not found at {TCPD}")
    methods: dict[str, Detector] = {
        "benchwarden": ours,
        "binseg-default (TCPDBench)": timed(binseg_default),
        "no change points": nothing,
    }
    wanted = (
        () if args.peers == "none" else PEERS if args.peers == "auto" else args.peers.split(",")
    )
    for name in wanted:
        found = peer(name)
        if isinstance(found, str):
            print(f"skipping {name}: {found}")
        else:
            methods[name] = found
    print(table(evaluate(methods, args.count, args.seed)))
    if args.ceiling:
        print(describe(tuning_ceiling(load_tcpd())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
