"""Scoring and the result table of :mod:`bench_suites.accuracy.evaluate` (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench_suites.accuracy.metrics import covering, f_measure, true_positives
from bench_suites.accuracy.synthetic import SyntheticSeries

MARGIN = 5
STEP_BINS = ((2.0, 3.0), (3.0, 5.0), (5.0, 10.0), (10.0, float("inf")))


#: scenarios whose series have no change point: every reported step is a false alarm
QUIET = ("none", "slow", "variance")


@dataclass(frozen=True)
class Scores:
    """Mean scores of one method. F1 and cover as in TCPDBench (5-point margin);
    ``_no0`` without the index-0 convention; false alarms per 1,000 points on
    the no-change series (no change, slow ramp, variance burst, AR(1) without
    steps) and as steps on the drift series (a drift reported as a drift is
    right, so it is no alarm); recall of excursion ends of at least 3 sigmas;
    share of drift series given a drift over the ramp; recall per step-size bin
    (noise sigmas, :data:`STEP_BINS`); median |error| of matched changes;
    synthetic F1 per scenario."""

    name: str
    tcpd_f1: float
    tcpd_f1_no0: float
    tcpd_cover: float
    syn_f1: float
    syn_f1_no0: float
    syn_cover: float
    false_alarms: float
    drift_alarms: float
    excursion_recall: float
    drift_recall: float
    recall_by_step: tuple[float, ...]
    median_error: float
    seconds: float
    by_scenario: dict[str, float]


@dataclass(frozen=True)
class Synthetic:
    """Synthetic part of :class:`Scores`."""

    f1: float
    f1_no0: float
    cover: float
    false_alarms: float
    drift_alarms: float
    excursion_recall: float
    drift_recall: float
    recall_by_step: tuple[float, ...]
    median_error: float
    by_scenario: dict[str, float]


def score_tcpd(
    data: Sequence[tuple[str, list[list[float]], dict[str, list[int]]]],
    found: Sequence[Sequence[int]],
) -> tuple[float, float, float]:
    """Mean (F1, F1 without index 0, cover); ``found`` has one entry per column
    of every series in order; a multivariate series takes the union."""
    f1, f1_no0, cover, i = [], [], [], 0
    for _, cols, marks in data:
        pred = sorted({p for col in found[i : i + len(cols)] for p in col})
        i += len(cols)
        n = len(cols[0])
        f1.append(f_measure(marks, pred, margin=MARGIN)[0])
        f1_no0.append(f_measure(marks, pred, margin=MARGIN, zero_convention=False)[0])
        cover.append(covering(marks, pred, n))
    return float(np.mean(f1)), float(np.mean(f1_no0)), float(np.mean(cover))


def score_synthetic(
    data: Sequence[SyntheticSeries],
    found: Sequence[Sequence[int]],
    drifts: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> Synthetic:
    """Scores over the synthetic set; ``drifts`` holds the ``(first, last)``
    index of each reported drift per series (None for methods without drifts)."""
    f1, f1_no0, cover, errors = [], [], [], []
    alarms = {"quiet": [0, 0], "drift": [0, 0]}
    hits = np.zeros(len(STEP_BINS))
    totals = np.zeros(len(STEP_BINS))
    exc = [0, 0]
    drift_hits = [0, 0]
    per: dict[str, list[float]] = {}
    for i, (s, pred) in enumerate(zip(data, found, strict=True)):
        truth = {"a": list(s.change_points)}
        score = f_measure(truth, pred, margin=MARGIN)[0]
        f1.append(score)
        per.setdefault(s.scenario, []).append(score)
        f1_no0.append(f_measure(truth, pred, margin=MARGIN, zero_convention=False)[0])
        cover.append(covering(truth, pred, len(s.values)))
        quiet = s.scenario in QUIET or (s.scenario == "ar1" and not s.change_points)
        if quiet or s.scenario == "drift":
            slot = alarms["quiet" if quiet else "drift"]
            slot[0] += len(pred)
            slot[1] += len(s.values)
        if s.drift is not None:
            drift_hits[1] += 1
            mine = drifts[i] if drifts is not None else []
            start, end = s.drift
            drift_hits[0] += any(a < end and b >= start for a, b in mine)
        matched = true_positives(s.change_points, pred, MARGIN)
        for cp, size in zip(s.change_points, s.step_sigmas, strict=True):
            if cp in s.excursion_ends and size >= 3.0:
                exc[1] += 1
                exc[0] += cp in matched
            b = next((i for i, (lo, hi) in enumerate(STEP_BINS) if lo <= size < hi), 0)
            totals[b] += 1
            if cp in matched:
                hits[b] += 1
                errors.append(min(abs(cp - p) for p in pred))
    recall = tuple(float(h / t) if t else float("nan") for h, t in zip(hits, totals, strict=True))
    rate = {k: 1000.0 * v[0] / v[1] if v[1] else 0.0 for k, v in alarms.items()}
    return Synthetic(
        f1=float(np.mean(f1)),
        f1_no0=float(np.mean(f1_no0)),
        cover=float(np.mean(cover)),
        false_alarms=rate["quiet"],
        drift_alarms=rate["drift"],
        excursion_recall=exc[0] / exc[1] if exc[1] else float("nan"),
        drift_recall=drift_hits[0] / drift_hits[1] if drift_hits[1] else float("nan"),
        recall_by_step=recall,
        median_error=float(np.median(errors)) if errors else float("nan"),
        by_scenario={k: float(np.mean(v)) for k, v in sorted(per.items())},
    )


def table(rows: Sequence[Scores]) -> str:
    """Markdown tables of the scores: the main one, then synthetic F1 per scenario."""
    bins = " | ".join(f"R {lo:g}–{hi:g}σ" for lo, hi in STEP_BINS).replace("–infσ", "σ+")
    head = (
        "| method | TCPD F1 | TCPD F1 (no 0) | TCPD cover | synth F1 | synth F1 (no 0) | "
        "synth cover | FA/1k none | FA/1k drift | R exc ≥3σ | R drift | "
        f"{bins} | med err | time s |"
    )
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        cells = [r.tcpd_f1, r.tcpd_f1_no0, r.tcpd_cover, r.syn_f1, r.syn_f1_no0, r.syn_cover]
        text = [f"{v:.3f}" for v in cells] + [f"{r.false_alarms:.2f}", f"{r.drift_alarms:.2f}"]
        text += [f"{r.excursion_recall:.2f}", f"{r.drift_recall:.2f}"]
        text += [f"{v:.2f}" for v in r.recall_by_step] + [f"{r.median_error:g}", f"{r.seconds:.2f}"]
        lines.append(f"| {r.name} | " + " | ".join(text) + " |")
    names = sorted({k for r in rows for k in r.by_scenario})
    lines += ["", "| method | " + " | ".join(names) + " |", "|" + " --- |" * (len(names) + 1)]
    for r in rows:
        per = [f"{r.by_scenario.get(k, float('nan')):.3f}" for k in names]
        lines.append(f"| {r.name} | " + " | ".join(per) + " |")
    return "\n".join(lines)
