"""Scoring and the result table of :mod:`detector.evaluate` (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector.metrics import covering, f_measure, true_positives
from detector.synthetic import SyntheticSeries

MARGIN = 5
STEP_BINS = ((2.0, 3.0), (3.0, 5.0), (5.0, 10.0), (10.0, float("inf")))


@dataclass(frozen=True)
class Scores:
    """Mean scores of one method. F1 and cover as in TCPDBench (5-point margin);
    ``_no0`` without the index-0 convention; false alarms per 1,000 points on
    the no-change and the drifting synthetic series; recall per step-size bin
    (noise sigmas, :data:`STEP_BINS`); median |error| of matched changes."""

    name: str
    tcpd_f1: float
    tcpd_f1_no0: float
    tcpd_cover: float
    syn_f1: float
    syn_f1_no0: float
    syn_cover: float
    false_alarms: float
    drift_alarms: float
    recall_by_step: tuple[float, ...]
    median_error: float
    seconds: float


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
    data: Sequence[SyntheticSeries], found: Sequence[Sequence[int]]
) -> tuple[float, float, float, float, float, tuple[float, ...], float]:
    """(F1, F1 without index 0, cover, false alarms/1000 no-change, /1000 drift,
    recall by step bin, median localisation error) over the synthetic set."""
    f1, f1_no0, cover, errors = [], [], [], []
    alarms = {"none": [0, 0], "drift": [0, 0]}
    hits = np.zeros(len(STEP_BINS))
    totals = np.zeros(len(STEP_BINS))
    for s, pred in zip(data, found, strict=True):
        truth = {"a": list(s.change_points)}
        f1.append(f_measure(truth, pred, margin=MARGIN)[0])
        f1_no0.append(f_measure(truth, pred, margin=MARGIN, zero_convention=False)[0])
        cover.append(covering(truth, pred, len(s.values)))
        if s.scenario in alarms:
            alarms[s.scenario][0] += len(pred)
            alarms[s.scenario][1] += len(s.values)
        matched = true_positives(s.change_points, pred, MARGIN)
        for cp, size in zip(s.change_points, s.step_sigmas, strict=True):
            b = next((i for i, (lo, hi) in enumerate(STEP_BINS) if lo <= size < hi), 0)
            totals[b] += 1
            if cp in matched:
                hits[b] += 1
                errors.append(min(abs(cp - p) for p in pred))
    recall = tuple(float(h / t) if t else float("nan") for h, t in zip(hits, totals, strict=True))
    rate = {k: 1000.0 * v[0] / v[1] if v[1] else 0.0 for k, v in alarms.items()}
    med = float(np.median(errors)) if errors else float("nan")
    return (
        float(np.mean(f1)),
        float(np.mean(f1_no0)),
        float(np.mean(cover)),
        rate["none"],
        rate["drift"],
        recall,
        med,
    )


def table(rows: Sequence[Scores]) -> str:
    """Markdown table of the scores."""
    bins = " | ".join(f"R {lo:g}–{hi:g}σ" for lo, hi in STEP_BINS).replace("–infσ", "σ+")
    head = (
        "| method | TCPD F1 | TCPD F1 (no 0) | TCPD cover | synth F1 | synth F1 (no 0) | "
        f"synth cover | FA/1k none | FA/1k drift | {bins} | med err | time s |"
    )
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        cells = [r.tcpd_f1, r.tcpd_f1_no0, r.tcpd_cover, r.syn_f1, r.syn_f1_no0, r.syn_cover]
        text = [f"{v:.3f}" for v in cells] + [f"{r.false_alarms:.2f}", f"{r.drift_alarms:.2f}"]
        text += [f"{v:.2f}" for v in r.recall_by_step] + [f"{r.median_error:g}", f"{r.seconds:.2f}"]
        lines.append(f"| {r.name} | " + " | ".join(text) + " |")
    return "\n".join(lines)
