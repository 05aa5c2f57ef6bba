"""Bisection on a busy machine never names a wrong commit (issue 20, item 5).

The decisions are a pure function of the samples (``web.services.bisect_decision``),
so a bisection can be run here against a simulated machine: per-process samples
with 5-10% CV (what a loaded 2-core CI machine gives), 20 seeded trials, each
with the change at a random commit of a 9-commit range.
"""

from __future__ import annotations

import numpy as np
import pytest

from detector import Verdict
from web.models.project_settings import DEFAULT_BISECT_REPEATS, ProjectSettings
from web.services.bisect_decision import (
    Bisection,
    Culprit,
    Decision,
    Measure,
    Narrowed,
    RangeOnly,
    decide,
)

THRESHOLDS = ProjectSettings.model_validate({}).thresholds()
REPEATS = DEFAULT_BISECT_REPEATS  # processes per commit and step, doubled on a retry
COMMITS = 9  # index 0 is the last good commit, 8 the first where the change was seen


def _bisect(level, noise_cv: float, rng, expected=Verdict.REGRESSION, change=0.15):  # type: ignore[no-untyped-def]
    """Run a bisection to its end against ``level(i)``; returns the final decision and steps."""
    samples: dict[int, list[float]] = {}
    verify: dict[int, list[float]] = {}
    lo, hi, retries, steps = 0, COMMITS - 1, 0, 0
    while True:
        state = Bisection(lo, hi, samples, verify, 0, COMMITS - 1, True, expected, change,
                          repeats=REPEATS, retries=retries)  # fmt: skip
        decision: Decision = decide(state, THRESHOLDS)
        if isinstance(decision, Narrowed):
            lo, hi, retries = decision.lo, decision.hi, 0
        elif isinstance(decision, Measure):
            steps += 1
            retries = decision.retries
            into = verify if decision.verify else samples
            for i in decision.indices:
                draw = level(i) * (1 + noise_cv * rng.standard_normal(decision.repeats))
                into.setdefault(i, []).extend(draw.tolist())
        else:
            return decision, steps


@pytest.mark.parametrize("noise_cv", [0.05, 0.10])
def test_twenty_noisy_bisections_never_name_a_wrong_commit(noise_cv: float) -> None:
    named = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        culprit = int(rng.integers(1, COMMITS))
        decision, _ = _bisect(lambda i, c=culprit: 1.0 if i < c else 1.15, noise_cv, rng)
        if isinstance(decision, Culprit):
            assert decision.index == culprit, f"seed {seed}: named {decision.index}, not {culprit}"
            named += 1
        else:
            assert isinstance(decision, RangeOnly)
            assert decision.lo < culprit <= decision.hi, f"seed {seed}: range misses the change"
    print(f"CV {noise_cv:.0%}: the exact commit named in {named} of 20 trials")
    assert named >= 11, "the right commit in most trials"


def test_exact_counts_name_the_commit_in_few_steps() -> None:
    rng = np.random.default_rng(0)
    decision, steps = _bisect(lambda i: 1.0e6 if i < 5 else 1.15e6, 0.0, rng)
    assert isinstance(decision, Culprit) and decision.index == 5
    assert steps <= 4


def test_a_change_split_over_two_commits_names_neither() -> None:
    # +7.5% at commit 3 and +7% at commit 6: one alert of ~+15%, no single culprit
    rng = np.random.default_rng(0)
    decision, _ = _bisect(lambda i: 1e6 * (1.075 if i >= 3 else 1.0) * (1.07 if i >= 6 else 1.0),
                          0.0, rng)  # fmt: skip
    assert isinstance(decision, RangeOnly)
    assert (decision.lo, decision.hi) == (0, COMMITS - 1)


def test_improvements_are_bisected_in_their_own_direction() -> None:
    rng = np.random.default_rng(1)
    decision, _ = _bisect(lambda i: 1.0 if i < 4 else 0.85, 0.05, rng,
                          expected=Verdict.IMPROVEMENT, change=-0.15)  # fmt: skip
    assert isinstance(decision, Culprit) and decision.index == 4
