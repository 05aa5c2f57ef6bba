"""Alert summaries as a maintainer reads them: one per culprit or range, closed alerts apart.

Detection files alerts by commit range (last good .. first changed), so one
change seen at slightly different ranges on different series makes several
summaries; once bisection names the same culprit for them they are one
change and are shown, and triaged, as one group. An alert whose confirmation
re-runs did not reproduce it, or that a later detection pass no longer finds,
is not open work: it goes to the closed list with its reason, never deleted.

Pure functions over rows read by :mod:`web.queries.alert_board`; nothing here
reads or writes the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from web.models import TRIAGE_STATES, AlertSummary, Commit
from web.queries.alert_board import BoardAlert, Rerun

GroupKey = tuple[str, int, int]


@dataclass(frozen=True)
class ClosedAlert:
    alert: BoardAlert
    code: str  # "not_reproduced" | "no_longer_detected"
    reason: str


@dataclass
class AlertGroup:
    """Summaries of one change: the first is the one links and forms name."""

    summaries: list[AlertSummary]
    culprit: Commit | None
    alerts: list[BoardAlert] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.summaries[0].id

    @property
    def primary(self) -> AlertSummary:
        return self.summaries[0]

    @property
    def status(self) -> str:
        """The members' status; when they differ, the least advanced one (it needs work)."""
        found = {s.status for s in self.summaries}
        return next((s for s in TRIAGE_STATES if s in found), self.summaries[0].status)

    @property
    def created_at(self) -> datetime:
        return max(s.created_at for s in self.summaries)

    @property
    def regressions(self) -> int:
        return sum(1 for a in self.alerts if a.is_regression)

    @property
    def improvements(self) -> int:
        return len(self.alerts) - self.regressions

    @property
    def issue_url(self) -> str | None:
        return next((s.issue_url for s in self.summaries if s.issue_url), None)

    @property
    def note(self) -> str | None:
        return next((s.note for s in self.summaries if s.note), None)


@dataclass(frozen=True)
class Board:
    groups: list[AlertGroup]
    closed: list[ClosedAlert]


def group_key(summary: AlertSummary, alerts: Sequence[BoardAlert]) -> GroupKey:
    """``("culprit", branch, commit)`` when its alerts name one culprit, else its own range."""
    culprits = {a.culprit_commit_id for a in alerts if a.culprit_commit_id is not None}
    if len(culprits) == 1:
        return ("culprit", summary.branch_id, culprits.pop())
    return ("range", summary.branch_id, summary.id)


def closed_reason(alert: BoardAlert, rerun: Rerun | None) -> ClosedAlert | None:
    """Why ``alert`` is no longer open work, or None when it is."""
    if alert.confirmation == "not_reproduced":
        measured = ""
        if rerun is not None and rerun.rel_change is not None:
            p = f", p = {rerun.pvalue:.2g}" if rerun.pvalue is not None else ""
            measured = f": they measured {rerun.rel_change * 100:+.1f}%{p}".replace("-", "−")
        reason = f"Not reproduced by the confirmation re-runs{measured}"
        return ClosedAlert(alert, "not_reproduced", reason)
    if not alert.active:
        reason = "No longer detected: later results no longer show this change"
        return ClosedAlert(alert, "no_longer_detected", reason)
    return None


def build_board(
    rows: Sequence[tuple[AlertSummary, list[BoardAlert]]],
    culprits: dict[int, Commit],
    reruns: dict[int, Rerun],
) -> Board:
    """Open groups (regressions first, newest first) and the closed alerts with their reasons."""
    groups: dict[GroupKey, AlertGroup] = {}
    closed: list[ClosedAlert] = []
    for summary, alerts in sorted(rows, key=lambda r: (r[0].created_at, r[0].id)):
        key = group_key(summary, alerts)
        culprit = culprits.get(key[2]) if key[0] == "culprit" else None
        group = groups.setdefault(key, AlertGroup([], culprit))
        group.summaries.append(summary)
        for alert in alerts:
            done = closed_reason(alert, reruns.get(alert.id))
            if done is None:
                group.alerts.append(alert)
            else:
                closed.append(done)
    live = [g for g in groups.values() if g.alerts]
    for group in live:
        group.alerts.sort(key=lambda a: -abs(a.rel_change))
    # Regressions first (they are the work), then the newest change first.
    live.sort(key=lambda g: (g.regressions > 0, g.created_at, g.id), reverse=True)
    return Board(live, closed)


def members(
    rows: Sequence[tuple[AlertSummary, list[BoardAlert]]], summary_id: int
) -> list[AlertSummary]:
    """Every summary grouped with ``summary_id`` (itself included; empty if unknown)."""
    keys = {s.id: group_key(s, alerts) for s, alerts in rows}
    if summary_id not in keys:
        return []
    return [s for s, _ in rows if keys[s.id] == keys[summary_id]]
