"""How far threshold tuning alone can take the detector on TCPD (no I/O).

TCPDBench reports two numbers per method: default parameters, and the best
parameters chosen *per series* with the annotations in hand (an oracle, not a
usable detector). The same two numbers for our detector over a grid of its
thresholds tell whether a TCPD target is within reach of tuning the defaults
(the best single setting of the grid) or beyond even per-series tuning.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench_suites.accuracy.evaluate_report import MARGIN
from bench_suites.accuracy.metrics import f_measure
from detector.changepoint import detect_change_points
from detector.types import Thresholds

ALPHAS = (0.001, 0.01, 0.05, 0.2, 0.5)
MIN_SEGMENTS = (2, 3, 5, 8)
EFFECT_SIGMAS = (0.0, 0.5, 1.0, 2.0)
AUTOCORRELATION_CAPS = (0.0, 0.7, 0.99)


def threshold_grid() -> list[Thresholds]:
    """Every combination of the grid's values (240 settings)."""
    return [
        Thresholds(alpha=a, min_segment=m, min_effect_sigma=e, max_autocorrelation=r)
        for a, m, e, r in itertools.product(
            ALPHAS, MIN_SEGMENTS, EFFECT_SIGMAS, AUTOCORRELATION_CAPS
        )
    ]


@dataclass(frozen=True)
class Ceiling:
    """Mean TCPD F1 with the defaults, with the best single setting of the grid
    (``best_setting``), and with the best setting chosen per series (oracle)."""

    default_f1: float
    best_global_f1: float
    best_setting: Thresholds
    oracle_f1: float
    settings: int


def tuning_ceiling(
    data: Sequence[tuple[str, list[list[float]], dict[str, list[int]]]],
    grid: Sequence[Thresholds] | None = None,
) -> Ceiling:
    """F1 of every setting on every series (multivariate series: union of columns)."""
    grid = list(grid) if grid is not None else threshold_grid()
    settings = [Thresholds(), *grid]
    scores = np.empty((len(settings), len(data)))
    for i, th in enumerate(settings):
        for j, (_, cols, marks) in enumerate(data):
            found = {c.index for col in cols for c in detect_change_points(col, thresholds=th)}
            scores[i, j] = f_measure(marks, sorted(found), margin=MARGIN)[0]
    means = scores[1:].mean(axis=1)
    best = int(np.argmax(means))
    return Ceiling(
        default_f1=float(scores[0].mean()),
        best_global_f1=float(means[best]),
        best_setting=grid[best],
        oracle_f1=float(scores[1:].max(axis=0).mean()),
        settings=len(grid),
    )


def describe(ceiling: Ceiling) -> str:
    th = ceiling.best_setting
    return (
        f"TCPD F1 over {ceiling.settings} threshold settings: defaults {ceiling.default_f1:.3f}; "
        f"best single setting {ceiling.best_global_f1:.3f} (alpha={th.alpha:g}, "
        f"min_segment={th.min_segment}, min_effect_sigma={th.min_effect_sigma:g}, "
        f"max_autocorrelation={th.max_autocorrelation:g}); "
        f"best setting per series (oracle) {ceiling.oracle_f1:.3f}"
    )
