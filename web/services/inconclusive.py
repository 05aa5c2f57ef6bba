"""Why a comparison is inconclusive, and what to change so the next one is not.

"Inconclusive" alone leaves a reader stuck (issue 15: "69 inconclusive of 69"
for a -64% change measured with ``pedantic(rounds=1)``). Three causes cover
what we see, checked in this order:

* ``one_sample_per_process``: every process measured one sample, so a side
  holds one value per process and, with few processes, no test can be made;
* ``too_few_processes``: there are samples, but so few that the rank test
  cannot reach significance whatever they say: with n and m samples the
  smallest two-sided Mann–Whitney p-value is 2 / C(n + m, n) (all of one side
  below all of the other), e.g. 0.10 at 3 against 3 and 0.33 at 2 against 2;
  Welch's t needs at least 2 per side and says little under 5;
* ``noise``: enough samples, but the noise makes the interval wider than the
  threshold: the smallest change this comparison could detect (its
  ``min_detectable_effect``) is above ``compare_min_rel_change``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from detector.types import Comparison, Thresholds, Verdict

MIN_SUMMARY_N = 5  # Welch's t on fewer samples per side has little power at any noise
INSTRUCTIONS = "or compare instruction counts (valgrind), which need one sample only"


@dataclass(frozen=True)
class Evidence:
    """What the two sides brought: samples each, and whether every process gave one sample."""

    baseline_n: int
    candidate_n: int
    one_sample_per_process: bool


@dataclass(frozen=True)
class Inconclusive:
    """``reason`` is a stable code for the API; ``message`` and ``advice`` are for people."""

    reason: str
    message: str
    advice: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "advice": self.advice}


def explain(
    comparison: Comparison, basis: str, evidence: Evidence, thresholds: Thresholds | None = None
) -> Inconclusive | None:
    """The reason of an inconclusive ``comparison`` (None for any other verdict)."""
    if comparison.verdict != Verdict.INCONCLUSIVE:
        return None
    th = thresholds or Thresholds()
    n, m = evidence.baseline_n, evidence.candidate_n
    counts = f"{n} against {m}"
    if basis == "single" or (evidence.one_sample_per_process and _untestable(basis, n, m, th)):
        return Inconclusive(
            "one_sample_per_process",
            f"one sample per process ({counts} processes): too few values for any test",
            "run more rounds per process (e.g. not pytest-benchmark's pedantic(rounds=1)) "
            f"or more processes (repeats), {INSTRUCTIONS}",
        )
    if _untestable(basis, n, m, th):
        return Inconclusive(
            "too_few_processes",
            f"too few samples ({counts}): no outcome could be significant",
            f"run more processes (repeats) or more rounds per process, {INSTRUCTIONS}",
        )
    threshold = th.compare_min_rel_change
    return Inconclusive(
        "noise",
        f"noise above the threshold: the smallest change this comparison can detect is "
        f"{_pct(comparison.min_detectable_effect)}, the threshold {_pct(threshold)}",
        "run more processes (repeats) or quiet the machine (pinned cores, no turbo), "
        f"{INSTRUCTIONS}",
    )


def _untestable(basis: str, n: int, m: int, th: Thresholds) -> bool:
    """Whether ``n`` against ``m`` samples can never give a significant result."""
    if n < 2 or m < 2:
        return True
    if basis == "summary":
        return min(n, m) < MIN_SUMMARY_N
    smallest_p = 2.0 / math.comb(n + m, n)
    return smallest_p >= min(th.compare_alpha, th.fdr)


def _pct(value: float) -> str:
    return "unknown" if not math.isfinite(value) else f"{value * 100:.1f}%"
