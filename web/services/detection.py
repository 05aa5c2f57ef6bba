"""Detection after ingest: find change points in the series a run touched, store alerts.

Detection runs here, in a worker, once per new run; pages and API reads only
read what it stored (DESIGN.md house style 7). Alerts are keyed by (series,
first changed commit), so re-detecting never duplicates one, and a triaged
alert is never raised again.

A run costs O(points it adds), not O(history): the run's commits are folded
into the stored per-commit points (``point_state``), the detector state of each
series is kept per process and caught up by appending (``series_cache``), and
alerts of all touched series are read in a few indexed queries. The result
equals :func:`recompute_series`, the full recomputation kept for repair
(tests/web/test_detection_incremental.py proves it on both engines).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import (
    DETECTOR_VERSION,
    ChangePoint,
    Drift,
    NoiseProfile,
    Thresholds,
    noise_profile,
)
from web.models import Alert, AlertSummary, Annotation, Measure, Project, Run, Series, SeriesState
from web.models.base import utcnow
from web.models.project_settings import DEFAULT_THRESHOLDS, ProjectSettings
from web.queries.deciding_measure import timed_with_counts
from web.queries.points import PointRow, stored_columns, stored_points
from web.services.environment_change import KIND as ENVIRONMENT
from web.services.environment_change import environment_change
from web.services.environment_change import record as record_environment_change
from web.services.point_state import fold_run, lock_states, repair_points
from web.services.series_cache import CACHE, CachedSeries

# A change must also be at least 2% to raise an alert (Perfherder's floor): on
# quiet benchmarks the detector alone would flag sub-percent shifts nobody acts on.
THRESHOLDS = DEFAULT_THRESHOLDS
DRIFT = "drift"  # Alert.kind of a gradual change over a range of commits
# Re-detection with more data can move a change point by a point or two.
_SAME_CHANGE_RADIUS = 2


@dataclass(frozen=True)
class DetectionOutcome:
    series_ids: tuple[int, ...]
    new_alert_ids: tuple[int, ...]
    new_summary_ids: tuple[int, ...]


def detect_for_run(session: Session, run_id: int) -> DetectionOutcome:
    """Fold the run's results into its series' points, then re-detect those series.

    Costs O(points the run adds) per series while the process holds the
    series' detector state, O(series length) to rebuild one it does not.
    """
    if session.get(Run, run_id) is None:
        return DetectionOutcome((), (), ())
    fold = fold_run(session, run_id)
    new_alerts = _detect(session, fold.states, fold.appended)
    summaries = tuple(sorted({a.summary_id for a in new_alerts}))
    return DetectionOutcome(tuple(sorted(fold.states)), tuple(a.id for a in new_alerts), summaries)


def detect_series(session: Session, series_id: int) -> list[Alert]:
    """Detect one series from its stored points and reconcile its alerts; returns new ones."""
    if session.get(Series, series_id) is None:
        return []
    return _detect(session, lock_states(session, [series_id]), {})


def recompute_series(session: Session, series_ids: Sequence[int]) -> list[Alert]:
    """The full recomputation: every point from the results, fresh detector states.

    O(history); for repair and as the reference the incremental path must equal.
    """
    states = repair_points(session, series_ids)
    for series_id in states:
        CACHE.take(series_id)
    return _detect(session, states, {})


def _detect(
    session: Session, states: dict[int, SeriesState], appended: dict[int, list[PointRow]]
) -> list[Alert]:
    """Detect the series of ``states`` (locked, points up to date) and reconcile their alerts."""
    eligible: list[tuple[Series, Thresholds]] = []
    thresholds: dict[int, Thresholds] = {}
    for series in _load_series(session, list(states)):
        series.detected_at = utcnow()
        if series.project_id not in thresholds:
            project = session.get(Project, series.project_id)
            thresholds[series.project_id] = project_thresholds(project)
        th = thresholds[series.project_id]
        if enough_points(states[series.id].points, th):
            eligible.append((series, th))
    entries = _entries(session, eligible, states, appended)
    # Back into the cache only once these points are committed (see series_cache).
    CACHE.put_after_commit(session, entries)
    context = _Context.load(session, [series.id for series, _ in eligible])
    raised: list[Alert] = []
    # One flush at the end instead of one per query: a pass touches 1,000 series.
    with session.no_autoflush:
        for series, th in eligible:
            raised.extend(_detect_one(session, series, entries[series.id], th, context))
    session.flush()
    return raised


def _load_series(session: Session, series_ids: list[int]) -> list[Series]:
    ids = sorted(series_ids)
    out: list[Series] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        out.extend(session.scalars(select(Series).where(Series.id.in_(chunk)).order_by(Series.id)))
    return out


def _entries(
    session: Session,
    eligible: list[tuple[Series, Thresholds]],
    states: dict[int, SeriesState],
    appended: dict[int, list[PointRow]],
) -> dict[int, CachedSeries]:
    """A current detector state per series: the cached one caught up, else rebuilt."""
    entries: dict[int, CachedSeries] = {}
    rebuild: list[tuple[int, Thresholds]] = []
    for series, th in eligible:
        entry = CACHE.take(series.id)
        state = states[series.id]
        if entry is not None and _catch_up(session, entry, state, th, appended.get(series.id, [])):
            entries[series.id] = entry
        else:
            rebuild.append((series.id, th))
    loaded = stored_columns(session, [series_id for series_id, _ in rebuild])
    for series_id, th in rebuild:
        columns = loaded.get(series_id)
        entries[series_id] = CachedSeries.from_columns(states[series_id].epoch, th, columns)
    return entries


def _catch_up(
    session: Session,
    entry: CachedSeries,
    state: SeriesState,
    thresholds: Thresholds,
    appended: list[PointRow],
) -> bool:
    """Append what was stored after the entry's last point; False if it must be rebuilt."""
    if entry.epoch != state.epoch or entry.thresholds != thresholds:
        return False
    last = entry.last_position
    if entry.size + len(appended) == state.points and all(
        last is None or p.position > last for p in appended
    ):
        entry.extend(appended)  # this transaction's own appends: no read needed
    else:
        tail = stored_points(session, [state.series_id], after=last)
        entry.extend(tail.get(state.series_id, []))
    return entry.size == state.points and entry.last_position == state.last_position


def _detect_one(
    session: Session,
    series: Series,
    entry: CachedSeries,
    thresholds: Thresholds,
    context: _Context,
) -> list[Alert]:
    values = entry.state.values
    change_points = entry.state.change_points
    profile, meaningful = worth_alerting(values, change_points, thresholds)
    series.noise = profile.rel_noise if np.isfinite(profile.rel_noise) else None
    series.unstable = profile.unstable
    series.latest_change = meaningful[-1].rel_change if meaningful else None
    drifts = [d for d in entry.state.drifts if abs(d.rel_change) >= profile.min_rel_change]
    if series.id in context.counted:
        # Its benchmark's instruction count decides (issue: noisy machines); the
        # time series is shown beside it but raises no alert of its own.
        meaningful, drifts = [], []
    return _reconcile(session, series, entry, meaningful, thresholds, context, drifts)


def enough_points(points: int, thresholds: Thresholds) -> bool:
    """A series is detected once it can hold a change: ``min_segment`` points either side."""
    return points >= 2 * thresholds.min_segment


def worth_alerting(
    values: np.ndarray, change_points: list[ChangePoint], thresholds: Thresholds
) -> tuple[NoiseProfile, list[ChangePoint]]:
    """The series' noise profile and its change points at least as large as its noise floor."""
    profile = noise_profile(values, change_points, thresholds=thresholds)
    return profile, [c for c in change_points if abs(c.rel_change) >= profile.min_rel_change]


def project_thresholds(project: Project | None) -> Thresholds:
    """The project's thresholds (`ProjectSettings.thresholds`); the defaults without a project.

    Raises ProjectSettingsError when the stored settings do not validate: a bad
    setting is reported, never silently replaced by the defaults.
    """
    return THRESHOLDS if project is None else ProjectSettings.of(project).thresholds()


@dataclass(frozen=True)
class _Context:
    """What reconciling needs of every series in a pass, read in a few indexed queries."""

    lower_is_better: dict[int, bool]
    expected: dict[int, set[int]]
    alerts: dict[int, dict[int, Alert]]
    # (project, branch, last good, first) -> summary: one change usually hits many series.
    summaries: dict[tuple[int, int, int | None, int], AlertSummary]
    # time series whose benchmark is also counted in instructions (machine, branch alike)
    counted: set[int] = dataclasses.field(default_factory=set)

    @classmethod
    def load(cls, session: Session, series_ids: list[int]) -> _Context:
        context = cls({}, {}, {}, {})
        for start in range(0, len(series_ids), 500):
            chunk = series_ids[start : start + 500]
            directions = session.execute(
                select(Series.id, Measure.direction)
                .join(Measure, Measure.id == Series.measure_id)
                .where(Series.id.in_(chunk))
            )
            context.lower_is_better.update((s, d != "higher_is_better") for s, d in directions)
            context.counted.update(timed_with_counts(session, chunk))
            known = session.execute(
                select(Annotation.series_id, Annotation.commit_id).where(
                    Annotation.series_id.in_(chunk),
                    Annotation.kind.in_(("known_change", ENVIRONMENT)),
                )
            )
            for series_id, commit_id in known:
                context.expected.setdefault(series_id, set()).add(commit_id)
            for alert in session.scalars(select(Alert).where(Alert.series_id.in_(chunk))):
                context.alerts.setdefault(alert.series_id, {})[alert.first_commit_id] = alert
        return context


# What detection knows of a pass's series (directions, expected changes, stored alerts),
# read by the backtest too.
DetectionContext = _Context


def _reconcile(
    session: Session,
    series: Series,
    entry: CachedSeries,
    change_points: list[ChangePoint],
    thresholds: Thresholds,
    context: _Context,
    drifts: Sequence[Drift] = (),
) -> list[Alert]:
    lower_is_better = context.lower_is_better.get(series.id, True)
    expected = context.expected.get(series.id, set())
    everything = context.alerts.get(series.id, {})
    existing = {first: a for first, a in everything.items() if a.kind != DRIFT}
    found: set[int] = set()
    raised: list[Alert] = []
    triaged = triaged_indices(entry, existing.values())
    for cp in change_points:
        first = entry.commit_ids[cp.index]
        if first in expected:
            continue
        is_regression = (cp.direction == "increase") == lower_is_better
        alert = matching_alert(entry, existing, triaged, cp.index, is_regression)
        if alert is not None and alert.status != "untriaged":
            continue  # a triaged change is never raised again
        found.add(alert.first_commit_id if alert is not None else first)
        if alert is None:
            # only a change about to become an alert is checked: one query per new one
            machine_changed = environment_change(session, series.id, entry.commit_ids, cp.index)
            if machine_changed is not None:
                record_environment_change(session, series.id, *machine_changed)
                found.discard(first)
                continue
            alert = _new_alert(session, series, entry, cp, is_regression, thresholds, context)
            raised.append(alert)
        elif alert.status == "untriaged":
            _refresh(alert, cp, is_regression)
    for drift in drifts:
        is_regression = (drift.direction == "increase") == lower_is_better
        found_drift, new = _reconcile_drift(
            session, series, entry, everything, drift, is_regression, thresholds, context
        )
        if found_drift is not None:
            found.add(found_drift.first_commit_id)
        raised.extend(new)
    for first, alert in everything.items():
        if first not in found and alert.status == "untriaged" and alert.active:
            alert.active = False
            alert.updated_at = utcnow()
    return raised


def _reconcile_drift(
    session: Session,
    series: Series,
    entry: CachedSeries,
    alerts: dict[int, Alert],
    drift: Drift,
    is_regression: bool,
    thresholds: Thresholds,
    context: _Context,
) -> tuple[Alert | None, list[Alert]]:
    """The stored drift alert this drift is (refreshed), or a new one; (None, []) if triaged.

    A drift is keyed by the first commit of its ramp; while the ramp goes on its
    end moves with every run, so a stored drift of the same direction whose
    range overlaps this one is the same drift, never a new alert.
    """
    same = same_drift(entry, alerts.values(), drift, is_regression)
    if same is not None:
        if same.status == "untriaged":
            _refresh_drift(same, entry, drift, is_regression)
        return same, []
    first = entry.commit_ids[drift.start]
    if first in alerts:  # a step alert once stood at the ramp's first commit
        return alerts[first], []
    alert = _new_alert(
        session, series, entry, _as_change_point(drift), is_regression, thresholds, context
    )
    alert.kind, alert.end_commit_id = DRIFT, entry.commit_ids[drift.end]
    return alert, [alert]


def same_drift(
    entry: CachedSeries, alerts: Iterable[Alert], drift: Drift, is_regression: bool
) -> Alert | None:
    """The stored drift alert of the same direction whose range overlaps ``drift``.

    Detection and the backtest both ask this.
    """
    for alert in alerts:
        if alert.kind != DRIFT or alert.is_regression != is_regression:
            continue
        start = entry.index_of(alert.first_commit_id)
        end = entry.index_of(alert.end_commit_id) if alert.end_commit_id else start
        if start is not None and end is not None and start <= drift.end and drift.start <= end:
            return alert
    return None


def _refresh_drift(alert: Alert, entry: CachedSeries, drift: Drift, is_regression: bool) -> None:
    end = entry.commit_ids[drift.end]
    if alert.end_commit_id != end:
        alert.end_commit_id = end
        alert.updated_at = utcnow()
    _refresh(alert, _as_change_point(drift), is_regression)


def _as_change_point(drift: Drift) -> ChangePoint:
    """The drift's numbers in the fields an alert stores (its level before and after)."""
    return ChangePoint(
        index=drift.start,
        before=drift.before,
        after=drift.after,
        rel_change=drift.rel_change,
        direction=drift.direction,
        pvalue=drift.p_value,
        effect_sigma=0.0,
    )


def triaged_indices(entry: CachedSeries, alerts: Iterable[Alert]) -> list[tuple[int, Alert]]:
    """(index, alert) of the series' triaged alerts: what :func:`matching_alert` needs."""
    found = ((entry.index_of(a.first_commit_id), a) for a in alerts if a.status != "untriaged")
    return [(i, a) for i, a in found if i is not None]


def matching_alert(
    entry: CachedSeries,
    alerts: dict[int, Alert],
    triaged: list[tuple[int, Alert]],
    index: int,
    is_regression: bool,
) -> Alert | None:
    """The stored alert (of ``alerts``, by first commit) that the change at ``index`` is.

    A triaged alert within a couple of points, else the alert with the same first
    commit, else the one whose range holds the change; None: the change is a new
    alert. Detection and the backtest (`web.services.backtest`) both ask this.
    """
    for position, alert in triaged:
        if _near(index, [position]):
            return alert
    first = entry.commit_ids[index]
    return alerts.get(first) or _narrowed(entry, alerts.values(), index, is_regression)


def _narrowed(
    entry: CachedSeries, alerts: Iterable[Alert], index: int, is_regression: bool
) -> Alert | None:
    """The alert whose range now holds the change at ``index``: the same change, seen
    closer once commits inside the range were measured (bisection does exactly that).

    Without this, every bisection step that lands a point in the range would
    move the change's first commit, deactivate the alert that carries the
    confirmation and the culprit, and raise a fresh candidate to confirm again.
    """
    for alert in alerts:
        if alert.is_regression != is_regression:
            continue
        first = entry.index_of(alert.first_commit_id)
        good = entry.index_of(alert.last_good_commit_id) if alert.last_good_commit_id else -1
        if first is not None and good is not None and good < index <= first:
            return alert
    return None


def _near(position: int, triaged: list[int]) -> bool:
    """A change within a couple of points of a triaged alert is that alert, not a new one."""
    return any(abs(position - t) <= _SAME_CHANGE_RADIUS for t in triaged)


def _new_alert(
    session: Session,
    series: Series,
    entry: CachedSeries,
    cp: ChangePoint,
    is_regression: bool,
    thresholds: Thresholds,
    context: _Context,
) -> Alert:
    first = entry.commit_ids[cp.index]
    last_good = entry.commit_ids[cp.index - 1] if cp.index > 0 else None
    key = (series.project_id, series.branch_id, last_good, first)
    summary = context.summaries.get(key)
    if summary is None:
        summary = context.summaries[key] = _summary(session, series, last_good, first)
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
    return alert


def _refresh(alert: Alert, cp: ChangePoint, is_regression: bool) -> None:
    fields = {
        "before": cp.before,
        "after": cp.after,
        "rel_change": _finite(cp.rel_change),
        "pvalue": cp.pvalue,
        "is_regression": is_regression,
        "active": True,
        "detector_version": DETECTOR_VERSION,
    }
    # Unchanged alerts are not rewritten: most passes confirm what is stored.
    if all(getattr(alert, name) == value for name, value in fields.items()):
        return
    for name, value in fields.items():
        setattr(alert, name, value)
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
