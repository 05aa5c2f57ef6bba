"""Detection after ingest: find change points in the series a run touched, store alerts.

Detection runs here, in a worker, once per new run; pages and API reads only
read what it stored (DESIGN.md house style 7). Alerts are keyed by (series,
first changed commit), so re-detecting never duplicates one, and a triaged
alert is never raised again.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import (
    DETECTOR_VERSION,
    ChangePoint,
    ChangePointState,
    Thresholds,
    noise_profile,
)
from web.models import Alert, AlertSummary, Annotation, Measure, Project, Result, Run, Series
from web.models.base import utcnow
from web.queries.series import series_values

# A change must also be at least 2% to raise an alert (Perfherder's floor): on
# quiet benchmarks the detector alone would flag sub-percent shifts nobody acts on.
THRESHOLDS = Thresholds(min_rel_change=0.02)
_CACHE_SIZE = 256
# Re-detection with more data can move a change point by a point or two.
_SAME_CHANGE_RADIUS = 2


@dataclass(frozen=True)
class DetectionOutcome:
    series_ids: tuple[int, ...]
    new_alert_ids: tuple[int, ...]
    new_summary_ids: tuple[int, ...]


@dataclass(frozen=True)
class _Point:
    commit_ids: list[int]
    values: np.ndarray


class _StateCache:
    """Per-process cache of incremental detector states, keyed by series.

    A cached state is reused only when the stored series still starts with the
    values it holds (points were appended, nothing inserted or changed);
    otherwise the series is detected from scratch. Either way the answer equals
    a full run (the detector guarantees it), so the cache only saves time.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._states: OrderedDict[int, ChangePointState] = OrderedDict()

    def change_points(
        self, series_id: int, values: np.ndarray, thresholds: Thresholds
    ) -> list[ChangePoint]:
        state = self._states.pop(series_id, None)
        if (
            state is not None
            and state.thresholds == thresholds
            and _is_prefix(state.values, values)
        ):
            state.append(values[state.values.shape[0] :])
        else:
            state = ChangePointState(values, thresholds=thresholds)
        self._states[series_id] = state
        while len(self._states) > self._size:
            self._states.popitem(last=False)
        return state.change_points


def _is_prefix(old: np.ndarray, new: np.ndarray) -> bool:
    n = old.shape[0]
    return n <= new.shape[0] and bool(np.array_equal(old, new[:n]))


STATES = _StateCache(_CACHE_SIZE)


def _points(session: Session, series_id: int) -> _Point:
    """One value per commit (the median when a commit was measured more than once)."""
    positions, commit_ids, values = series_values(session, series_id)
    merged_commits: list[int] = []
    merged_values: list[float] = []
    start = 0
    for i in range(1, len(positions) + 1):
        if i == len(positions) or positions[i] != positions[start]:
            merged_commits.append(commit_ids[start])
            merged_values.append(float(np.median(values[start:i])))
            start = i
    return _Point(merged_commits, np.asarray(merged_values, dtype=np.float64))


def detect_for_run(session: Session, run_id: int) -> DetectionOutcome:
    """Re-detect every series ``run_id`` added a point to."""
    series_ids = list(
        session.scalars(select(Result.series_id).where(Result.run_id == run_id).distinct())
    )
    run = session.get(Run, run_id)
    if run is None:
        return DetectionOutcome((), (), ())
    new_alerts: list[Alert] = []
    for series_id in sorted(series_ids):
        new_alerts.extend(detect_series(session, series_id))
    summaries = tuple(sorted({a.summary_id for a in new_alerts}))
    return DetectionOutcome(tuple(series_ids), tuple(a.id for a in new_alerts), summaries)


def detect_series(session: Session, series_id: int) -> list[Alert]:
    """Detect one series and reconcile its alerts; returns the newly raised ones."""
    series = session.get(Series, series_id)
    if series is None:
        return []
    points = _points(session, series_id)
    series.detected_at = utcnow()
    thresholds = project_thresholds(session.get(Project, series.project_id))
    if points.values.shape[0] < 2 * thresholds.min_segment:
        return []
    change_points = STATES.change_points(series_id, points.values, thresholds)
    profile = noise_profile(points.values, change_points, thresholds=thresholds)
    series.noise = profile.rel_noise if np.isfinite(profile.rel_noise) else None
    series.unstable = profile.unstable
    meaningful = [c for c in change_points if abs(c.rel_change) >= profile.min_rel_change]
    series.latest_change = meaningful[-1].rel_change if meaningful else None
    return _reconcile(session, series, points, meaningful, thresholds)


def project_thresholds(project: Project | None) -> Thresholds:
    """Defaults, overridden by ``project.settings["detector"]`` (e.g. ``{"min_segment": 3}``).

    Unknown names or invalid values fall back to the defaults: a bad setting must
    never stop detection for the whole project.
    """
    overrides = (project.settings or {}).get("detector") if project is not None else None
    if not isinstance(overrides, dict):
        return THRESHOLDS
    known = {f.name for f in dataclasses.fields(Thresholds)}
    try:
        return dataclasses.replace(THRESHOLDS, **{k: v for k, v in overrides.items() if k in known})
    except (TypeError, ValueError):
        return THRESHOLDS


def _reconcile(
    session: Session,
    series: Series,
    points: _Point,
    change_points: list[ChangePoint],
    thresholds: Thresholds,
) -> list[Alert]:
    lower_is_better = (
        session.scalar(select(Measure.direction).where(Measure.id == series.measure_id))
        != "higher_is_better"
    )
    expected = set(
        session.scalars(
            select(Annotation.commit_id).where(
                Annotation.series_id == series.id, Annotation.kind == "known_change"
            )
        )
    )
    existing = {
        a.first_commit_id: a
        for a in session.scalars(select(Alert).where(Alert.series_id == series.id))
    }
    found: set[int] = set()
    raised: list[Alert] = []
    triaged = _triaged_indices(points, existing.values())
    for cp in change_points:
        first = points.commit_ids[cp.index]
        if first in expected or _near(cp.index, triaged):
            continue
        found.add(first)
        is_regression = (cp.direction == "increase") == lower_is_better
        alert = existing.get(first)
        if alert is None:
            alert = _new_alert(session, series, points, cp, is_regression, thresholds)
            raised.append(alert)
        elif alert.status == "untriaged":
            _refresh(alert, cp, is_regression)
    for first, alert in existing.items():
        if first not in found and alert.status == "untriaged" and alert.active:
            alert.active = False
            alert.updated_at = utcnow()
    return raised


def _triaged_indices(points: _Point, alerts: Iterable[Alert]) -> list[int]:
    index = {commit_id: i for i, commit_id in enumerate(points.commit_ids)}
    return [
        index[a.first_commit_id]
        for a in alerts
        if a.status != "untriaged" and a.first_commit_id in index
    ]


def _near(position: int, triaged: list[int]) -> bool:
    """A change within a couple of points of a triaged alert is that alert, not a new one."""
    return any(abs(position - t) <= _SAME_CHANGE_RADIUS for t in triaged)


def _new_alert(
    session: Session,
    series: Series,
    points: _Point,
    cp: ChangePoint,
    is_regression: bool,
    thresholds: Thresholds,
) -> Alert:
    first = points.commit_ids[cp.index]
    last_good = points.commit_ids[cp.index - 1] if cp.index > 0 else None
    summary = _summary(session, series, last_good, first)
    alert = Alert(
        series_id=series.id,
        summary_id=summary.id,
        last_good_commit_id=last_good,
        first_commit_id=first,
        detector_version=DETECTOR_VERSION,
        thresholds=dataclasses.asdict(thresholds),
        status="untriaged",
        confirmation="candidate",
        active=True,
        before=cp.before,
        after=cp.after,
        rel_change=_finite(cp.rel_change),
        pvalue=cp.pvalue,
        is_regression=is_regression,
    )
    session.add(alert)
    session.flush()
    return alert


def _refresh(alert: Alert, cp: ChangePoint, is_regression: bool) -> None:
    alert.before, alert.after = cp.before, cp.after
    alert.rel_change, alert.pvalue = _finite(cp.rel_change), cp.pvalue
    alert.is_regression = is_regression
    alert.active = True
    alert.detector_version = DETECTOR_VERSION
    alert.updated_at = utcnow()


def _finite(value: float) -> float:
    # A change from a level of exactly 0 has no relative size; store a large sentinel.
    return value if np.isfinite(value) else float(np.sign(value)) * 1e9


def _summary(session: Session, series: Series, last_good: int | None, first: int) -> AlertSummary:
    query = select(AlertSummary).where(
        AlertSummary.project_id == series.project_id,
        AlertSummary.branch_id == series.branch_id,
        AlertSummary.first_commit_id == first,
    )
    query = query.where(
        AlertSummary.last_good_commit_id.is_(None)
        if last_good is None
        else AlertSummary.last_good_commit_id == last_good
    )
    summary = session.scalar(query)
    if summary is None:
        summary = AlertSummary(
            project_id=series.project_id,
            branch_id=series.branch_id,
            last_good_commit_id=last_good,
            first_commit_id=first,
            status="untriaged",
        )
        session.add(summary)
        session.flush()
    return summary
