"""The PR report as plain values: what the comment and the status say, with no I/O.

A report is built from the database by ``web.github.notify`` and rendered by
``web.github.render``; keeping it a frozen value makes rendering a pure
function that golden files can pin down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from web.models.project_settings import DEFAULT_OVERRIDE_LABEL


class Category(StrEnum):
    """Where a benchmark lands in the comment, already judged against the project threshold."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    UNCHANGED = "unchanged"
    INCONCLUSIVE = "inconclusive"
    NOISY = "noisy"
    # wall time of a benchmark whose instruction count decides: shown, never judged
    BESIDE = "beside"


class Outcome(StrEnum):
    """The headline verdict, and through ``status_state`` the commit status."""

    REGRESSION = "regression"
    OVERRIDDEN = "overridden"
    IMPROVEMENT = "improvement"
    NO_CHANGE = "no_change"
    NO_BASELINE = "no_baseline"


@dataclass(frozen=True)
class ReportRow:
    """One benchmark of one machine; changes are relative (0.1 = +10 %), CI at ``ci_level``."""

    name: str
    machine: str
    measure: str
    unit: str
    baseline: float
    candidate: float
    rel_change: float
    ci_low: float
    ci_high: float
    pvalue: float
    qvalue: float
    category: Category
    compare_url: str
    # For an inconclusive comparison: why (a stable code) and what would decide it.
    why_reason: str = ""
    why_advice: str = ""


@dataclass(frozen=True)
class MachineBaseline:
    """Which commit a machine's results were compared with, and why.

    ``note`` is set whenever the baseline is not the PR's merge-base (it had no
    results on this machine, or the merge-base is unknown); the comment shows it.
    """

    machine: str
    candidate_sha: str
    baseline_sha: str | None
    merge_base_sha: str | None
    note: str | None = None
    compare_url: str = ""


@dataclass(frozen=True)
class ProfileLine:
    """One function of the profile table: its instruction changes, self and inclusive."""

    function: str
    file: str
    line: int
    self_change: int
    inclusive_change: int


@dataclass(frozen=True)
class ProfileTable:
    """Where the instructions of one changed benchmark went (the comment shows the top 5)."""

    benchmark: str
    machine: str
    baseline_sha: str
    candidate_sha: str
    total_change: int
    lines: tuple[ProfileLine, ...]


@dataclass(frozen=True)
class PrReport:
    project: str
    pr_number: int
    head_sha: str
    default_branch: str
    threshold: float
    baselines: tuple[MachineBaseline, ...]
    rows: tuple[ReportRow, ...] = ()
    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    override_label: str = DEFAULT_OVERRIDE_LABEL
    overridden: bool = False
    report_url: str = ""
    ci_level: float = 0.95
    errors: tuple[str, ...] = field(default_factory=tuple)
    # the per-function profile diff of the biggest counted change, when both sides have one
    profile: ProfileTable | None = None

    @property
    def decided_by_counts(self) -> int:
        """How many benchmarks were judged on their instruction count, not their time."""
        return len(self.of(Category.BESIDE))

    def of(self, category: Category) -> list[ReportRow]:
        return [r for r in self.rows if r.category == category]

    @property
    def outcome(self) -> Outcome:
        if not any(b.baseline_sha for b in self.baselines):
            return Outcome.NO_BASELINE
        if self.of(Category.REGRESSION):
            return Outcome.OVERRIDDEN if self.overridden else Outcome.REGRESSION
        if self.of(Category.IMPROVEMENT):
            return Outcome.IMPROVEMENT
        return Outcome.NO_CHANGE


def categorize(
    verdict: str, rel_change: float, ci_low: float, ci_high: float, threshold: float
) -> Category:
    """Judge one comparison against the project threshold.

    The detector's verdict already applied FDR control and ``threshold`` as its
    minimum change; here an inconclusive row is called *noisy* when its interval
    is wider than ±threshold (the measurement cannot resolve a change of the
    size we care about), and plain *inconclusive* otherwise (no statistics,
    e.g. single values, or an interval straddling the threshold).
    """
    if verdict == "regression" and abs(rel_change) >= threshold:
        return Category.REGRESSION
    if verdict == "improvement" and abs(rel_change) >= threshold:
        return Category.IMPROVEMENT
    if verdict in ("regression", "improvement", "no_change"):
        return Category.UNCHANGED
    if math.isfinite(ci_low) and math.isfinite(ci_high) and ci_high - ci_low > 2 * threshold:
        return Category.NOISY
    return Category.INCONCLUSIVE


def status_state(report: PrReport) -> tuple[str, str]:
    """(commit status state, description): failure only on a regression nobody overrode.

    Commit statuses have no *neutral* state; an overridden regression is reported
    as ``success`` with a description that says so (check runs get ``neutral``).
    """
    outcome = report.outcome
    count = len(report.of(Category.REGRESSION))
    pct = f"{report.threshold:.0%}"
    if outcome is Outcome.REGRESSION:
        return "failure", f"{count} regression(s) beyond {pct}"
    if outcome is Outcome.OVERRIDDEN:
        return "success", f"{count} regression(s) overridden by label {report.override_label}"
    if outcome is Outcome.NO_BASELINE:
        return "success", "no baseline results to compare with yet"
    improved = len(report.of(Category.IMPROVEMENT))
    if outcome is Outcome.IMPROVEMENT:
        return "success", f"{improved} improvement(s), no regressions beyond {pct}"
    return "success", f"no change beyond {pct}"


def check_conclusion(report: PrReport) -> str:
    """Check-run conclusion: like :func:`status_state`, with a real ``neutral``."""
    if report.outcome is Outcome.OVERRIDDEN:
        return "neutral"
    return status_state(report)[0]
