"""The decisions of a bisection, as a pure function of the samples gathered so far.

A bisection holds a range ``lo .. hi`` of first-parent commits in which the
alert's change is known to lie (``lo`` before it, ``hi`` after it). Each step
compares the midpoint with both ends; the range only ever shrinks on a
comparison that is significant in the alert's direction and about as large
as the alert's change. When a step stays undecided after its retries (each
with twice the repeats, as Pinpoint does), the bisection stops rather than
guessing a side (on a busy machine a guess named the parent of the real
culprit) and reports the alert's own range: neither half explaining the change
means it is split over commits or an earlier step went astray. When the range
is down to one commit, that commit is measured once more with fresh samples
beside its parent, and named only if that fresh comparison alone is
significant in the alert's direction and accounts for the alert's change. A
chance draw can still steer a step (five samples all 1.4 sigma high happen);
the fresh verification keeps such a detour from naming an innocent commit, and
when it fails the result is the alert's own range, the one thing known for sure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from detector import Comparison, Thresholds, Verdict, compare

MAX_RETRIES = 2
# A bisection makes about log2(range)+1 decisions, each of which can go wrong; at
# the project's 0.05 per comparison, 20 seeded trials at 5% CV named a neighbour
# of the culprit twice. A Bonferroni share of 0.05 over five decisions holds it.
DECISION_ALPHA = 0.01


@dataclass(frozen=True)
class Measure:
    """Measure these commit indices with ``repeats`` processes each, then decide again.

    With ``verify`` the samples are kept apart, for the final check only.
    """

    indices: tuple[int, ...]
    repeats: int
    retries: int
    verify: bool = False


@dataclass(frozen=True)
class Narrowed:
    """Move the range to ``lo .. hi`` (the change is there) and go on."""

    lo: int
    hi: int


@dataclass(frozen=True)
class Culprit:
    """The commit at ``index`` changed the measure; ``comparison`` is it against its parent."""

    index: int
    comparison: Comparison


@dataclass(frozen=True)
class RangeOnly:
    """The change lies in ``lo .. hi`` (after ``lo``, at or before ``hi``), no closer."""

    lo: int
    hi: int
    reason: str


Decision = Measure | Narrowed | Culprit | RangeOnly


@dataclass(frozen=True)
class Bisection:
    """What the decision needs: the range, the samples by commit index, the alert."""

    lo: int
    hi: int
    samples: Mapping[int, Sequence[float]]
    # fresh samples of the final pair, measured after the range reached one commit
    verify: Mapping[int, Sequence[float]]
    # the alert's range, where the change is known to be
    first_lo: int
    first_hi: int
    lower_is_better: bool
    expected: Verdict  # REGRESSION or IMPROVEMENT: the alert's direction
    alert_change: float  # the alert's relative change, e.g. 0.15
    repeats: int
    retries: int = 0


def decide(b: Bisection, thresholds: Thresholds) -> Decision:
    """The next thing to do for bisection ``b``."""
    thresholds = replace(thresholds, compare_alpha=min(thresholds.compare_alpha, DECISION_ALPHA))
    if b.hi - b.lo <= 1:
        return _verdict_on_one(b, thresholds)
    mid = (b.lo + b.hi) // 2
    missing = tuple(i for i in (b.lo, mid, b.hi) if not b.samples.get(i))
    if missing:
        return Measure(missing, b.repeats, 0)
    left = _compare(b, b.lo, mid, thresholds)
    right = _compare(b, mid, b.hi, thresholds)
    if _explains(left, b):
        return Narrowed(b.lo, mid)
    if _explains(right, b):
        return Narrowed(mid, b.hi)
    if b.retries < MAX_RETRIES:
        retries = b.retries + 1
        return Measure((b.lo, mid, b.hi), b.repeats * 2**retries, retries)
    return RangeOnly(b.first_lo, b.first_hi, "no half explained the change after retries")


def _verdict_on_one(b: Bisection, thresholds: Thresholds) -> Decision:
    if not b.verify.get(b.lo) or not b.verify.get(b.hi):
        return Measure((b.lo, b.hi), b.repeats * 2, 0, verify=True)
    lower = b.lower_is_better
    step = compare(b.verify[b.lo], b.verify[b.hi], lower_is_better=lower, thresholds=thresholds)
    if _explains(step, b):
        return Culprit(b.hi, step)
    if step.verdict != b.expected:
        reason = (
            f"commit {b.hi} did not change significantly against its parent when measured again"
        )
    else:
        reason = (
            f"commit {b.hi}'s own change ({step.rel_change:+.1%}) does not explain"
            f" the alert's ({b.alert_change:+.1%})"
        )
    return RangeOnly(b.first_lo, b.first_hi, reason)


def _explains(step: Comparison, b: Bisection) -> bool:
    """A half holds the change when its ends differ significantly, in the alert's
    direction, by about the alert's change: a chance difference of a few percent
    (five unlucky samples on a busy machine) must not steer the search."""
    return step.verdict == b.expected and accounts_for(step, b.alert_change)


def accounts_for(step: Comparison, alert_change: float) -> bool:
    """Whether one commit's change explains the alert's: the alert's change inside the
    step's confidence interval, or (for a near-exact measure such as an instruction
    count, whose interval is a point) within a quarter of the alert's size."""
    if step.ci_low <= alert_change <= step.ci_high:
        return True
    return abs(step.rel_change - alert_change) <= 0.25 * abs(alert_change)


def _compare(b: Bisection, i: int, j: int, thresholds: Thresholds) -> Comparison:
    lower = b.lower_is_better
    return compare(b.samples[i], b.samples[j], lower_is_better=lower, thresholds=thresholds)
