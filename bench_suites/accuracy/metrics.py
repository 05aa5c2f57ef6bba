"""Accuracy metrics of TCPDBench (van den Burg & Williams 2020, arXiv:2003.06222).

F1 with a margin and the segmentation covering metric, both over several
annotators. ``zero_convention=True`` reproduces TCPDBench exactly: index 0 is
added to the predictions and to every annotator's set, which rewards a method
for the trivial "change" at the start. With ``zero_convention=False`` the sets
are used as given; an empty prediction set has precision 1 and an empty
annotation set has recall 1, so "no change points" on a no-change series
scores 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence


def true_positives(truth: Iterable[int], predicted: Iterable[int], margin: int = 5) -> set[int]:
    """Points of ``truth`` matched one-to-one by a prediction within ``margin``.

    Each true point, in increasing order, takes the closest unused prediction
    (TCPDBench's greedy matching; ties go to the smaller prediction).
    """
    unused = set(predicted)
    matched: set[int] = set()
    for tau in sorted(set(truth)):
        close = sorted((abs(tau - x), x) for x in unused if abs(tau - x) <= margin)
        if close:
            matched.add(tau)
            unused.remove(close[0][1])
    return matched


def f_measure(
    annotations: Mapping[str, Sequence[int]],
    predictions: Sequence[int],
    *,
    margin: int = 5,
    zero_convention: bool = True,
) -> tuple[float, float, float]:
    """(F1, precision, recall) of ``predictions`` against several annotators.

    Precision is against the union of all annotators' points, recall is the
    mean over annotators (TCPDBench ``f_measure`` with alpha = 0.5).
    """
    sets = [set(points) for points in annotations.values()]
    if not sets:
        raise ValueError("at least one annotator is needed")
    pred = set(predictions)
    if zero_convention:
        pred.add(0)
        for s in sets:
            s.add(0)
    union = set().union(*sets)
    precision = len(true_positives(union, pred, margin)) / len(pred) if pred else 1.0
    recalls = [len(true_positives(s, pred, margin)) / len(s) if s else 1.0 for s in sets]
    recall = sum(recalls) / len(recalls)
    if precision + recall == 0:
        return 0.0, precision, recall
    return 2 * precision * recall / (precision + recall), precision, recall


def _segments(points: Iterable[int], n: int) -> list[tuple[int, int]]:
    cuts = sorted({p for p in points if 0 < p < n})
    bounds = [0, *cuts, n]
    return list(itertools.pairwise(bounds))


def _jaccard(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union


def cover_single(truth: Iterable[int], predicted: Iterable[int], n: int) -> float:
    """Covering of the true segmentation by the predicted one (Arbelaez et al. 2011)."""
    pred = _segments(predicted, n)
    total = 0.0
    for seg in _segments(truth, n):
        total += (seg[1] - seg[0]) * max(_jaccard(seg, p) for p in pred)
    return total / n


def covering(annotations: Mapping[str, Sequence[int]], predictions: Sequence[int], n: int) -> float:
    """Mean covering over annotators for a series of ``n`` points.

    Index 0 never changes a partition, so covering has no zero convention.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    scores = [cover_single(points, predictions, n) for points in annotations.values()]
    return sum(scores) / len(scores)
