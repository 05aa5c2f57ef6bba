"""Threshold backtesting: what would detection have raised with other thresholds?

Replays detection over every stored series of a project with the current or
candidate ``detector.*`` settings and scores the outcome against what people
decided about the alerts that exist (issue #18, item 4). The replay is
detection's own: the same detector state (`CachedSeries`), the same noise
floor (`detection.worth_alerting`), known-change and environment annotations
skipped, a change matched to a stored alert by `detection.matching_alert`, and
a new change at a machine change taken for an environment change
(`environment_change`), exactly as a detection pass would. Nothing is written.

Scoring (``TRUE``, ``FALSE``, ``UNWANTED``): acknowledged, investigating and
fixed alerts were real changes; invalid ones were not; wontfix ones were real
but nobody wanted them (they count as true for precision and recall and are
shown apart). The baseline is every stored alert detection currently holds:
active ones and triaged ones (detection never retires a triaged alert).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from detector import Thresholds
from web.models import TRIAGE_STATES, Alert, Project
from web.models.project_settings import (
    DetectorSettings,
    ProjectSettings,
    ProjectSettingsError,
    assign,
)
from web.queries.backtest import point_chunks, project_series_ids
from web.queries.points import PointColumns
from web.services.detection import (
    DRIFT,
    DetectionContext,
    enough_points,
    matching_alert,
    same_drift,
    triaged_indices,
    worth_alerting,
)
from web.services.environment_change import environment_change
from web.services.series_cache import CachedSeries

TRUE = ("acknowledged", "investigating", "fixed")
FALSE = ("invalid",)
UNWANTED = ("wontfix",)
DETECTOR_KEYS = tuple(DetectorSettings.model_fields)
# A grid is the product of its axes; each setting replays every series once.
MAX_SETTINGS = 12


@dataclass(frozen=True)
class Candidate:
    """One setting to replay: its label, the ``project set`` assignments, its thresholds."""

    label: str
    assignments: tuple[str, ...]
    thresholds: Thresholds


@dataclass(frozen=True)
class BacktestRow:
    """What one setting would have done to the project's history.

    ``kept`` and ``dropped`` count stored alerts by triage state (every state
    present, zeros included); ``raised`` is kept plus ``new`` (changes no stored
    alert covers, so nobody triaged them). ``precision`` is the share of
    triaged alerts it keeps that were real (true or wontfix); ``recall`` the
    share of stored real alerts it keeps; None when there is nothing to divide.
    """

    label: str
    assignments: tuple[str, ...]
    series: int
    raised: int
    new: int
    kept: dict[str, int]
    dropped: dict[str, int]
    precision: float | None
    recall: float | None

    @property
    def kept_total(self) -> int:
        return sum(self.kept.values())

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


def candidates(
    project: Project, sets: Sequence[str] = (), grid: Sequence[str] = ()
) -> list[Candidate]:
    """The current setting, then one candidate per point of ``grid`` with ``sets`` applied.

    ``sets`` are ``key=value``, ``grid`` entries ``key=v1,v2,...``; a key is a
    ``detector.*`` setting, with or without the prefix. Every candidate is
    validated as ``project set`` validates it; raises ProjectSettingsError
    naming the bad key or value.
    """
    settings = ProjectSettings.of(project)
    out = [Candidate("current", (), settings.thresholds())]
    if not sets and not grid:
        return out
    fixed = [_pair(text) for text in sets]
    axes = [[(key, v.strip()) for v in values.split(",")] for key, values in map(_pair, grid)]
    points = list(itertools.product(*axes)) if axes else [()]
    if len(points) > MAX_SETTINGS:
        raise ProjectSettingsError(f"the grid has {len(points)} settings; at most {MAX_SETTINGS}")
    for point in points:
        pairs = dict(fixed)
        pairs.update(point)
        assignments = tuple(f"{key}={value}" for key, value in pairs.items())
        document = dict(project.settings or {})
        for key, value in pairs.items():
            document = assign(document, key, value)
        label = ", ".join(a.removeprefix("detector.") for a in assignments)
        out.append(Candidate(label, assignments, ProjectSettings.parse(document).thresholds()))
    return out


def detector_assignments(texts: Sequence[str]) -> tuple[str, ...]:
    """``texts`` as ``detector.KEY=VALUE`` assignments; raises ProjectSettingsError on any
    other key. What a candidate may change, and so what applying one may write."""
    return tuple(f"{key}={value}" for key, value in map(_pair, texts))


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    name = key.removeprefix("detector.")
    if not sep or not value:
        raise ProjectSettingsError(f"{text!r}: write KEY=VALUE, e.g. min_rel_change=0.05")
    if name not in DETECTOR_KEYS:
        raise ProjectSettingsError(
            f"{key}: not a detector setting (known: {', '.join(DETECTOR_KEYS)})"
        )
    return f"detector.{name}", value


@dataclass
class _Tally:
    """Counts of one setting while the series stream past."""

    series: int = 0
    new: int = 0
    kept: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)


def backtest(
    session: Session, project: Project, settings: Sequence[Candidate]
) -> list[BacktestRow]:
    """Replay every series of ``project`` under each setting; one row per setting, in order.

    Reads the stored points in chunks of series, so memory is bounded by a chunk;
    a setting equal to another (e.g. a grid point equal to the current one) is
    replayed once.
    """
    tallies = {c.thresholds: _Tally() for c in settings}
    for ids, columns in point_chunks(session, project_series_ids(session, project.id)):
        context = DetectionContext.load(session, ids)
        for series_id in ids:
            _score_series(session, series_id, columns.get(series_id), context, tallies)
    return [_row(c, tallies[c.thresholds]) for c in settings]


def _score_series(
    session: Session,
    series_id: int,
    columns: PointColumns | None,
    context: DetectionContext,
    tallies: dict[Thresholds, _Tally],
) -> None:
    stored = context.alerts.get(series_id, {})
    held = [a for a in stored.values() if a.active or a.status != "untriaged"]
    machine_changes: dict[int, bool] = {}
    for thresholds, tally in tallies.items():
        matched, new = _replay(session, series_id, columns, thresholds, context, machine_changes)
        tally.series += columns is not None and enough_points(len(columns.values), thresholds)
        tally.new += new
        tally.kept.update(a.status for a in matched)
        tally.dropped.update(a.status for a in held if a not in matched)


def _replay(
    session: Session,
    series_id: int,
    columns: PointColumns | None,
    thresholds: Thresholds,
    context: DetectionContext,
    machine_changes: dict[int, bool],
) -> tuple[set[Alert], int]:
    """(stored alerts the series' changes are, number of new alerts) under ``thresholds``."""
    if columns is None or not enough_points(len(columns.values), thresholds):
        return set(), 0
    if series_id in context.counted:
        return set(), 0  # its instruction count decides, as in detection
    entry = CachedSeries.from_columns(0, thresholds, columns)
    change_points = entry.state.change_points
    if not change_points and not entry.state.drifts:
        return set(), 0
    profile, meaningful = worth_alerting(entry.state.values, change_points, thresholds)
    everything = context.alerts.get(series_id, {})
    existing = {first: a for first, a in everything.items() if a.kind != DRIFT}
    triaged = triaged_indices(entry, existing.values())
    expected = context.expected.get(series_id, set())
    lower_is_better = context.lower_is_better.get(series_id, True)
    matched: set[Alert] = set()
    new = 0
    # drifts as detection raises them: above the noise floor, one alert per ramp
    drifts = [a for a in everything.values() if a.kind == DRIFT]
    for drift in entry.state.drifts:
        if abs(drift.rel_change) < profile.min_rel_change:
            continue
        is_regression = (drift.direction == "increase") == lower_is_better
        same = same_drift(entry, drifts, drift, is_regression)
        if same is not None:
            matched.add(same)
        else:
            new += 1
    for cp in meaningful:
        if entry.commit_ids[cp.index] in expected:
            continue
        is_regression = (cp.direction == "increase") == lower_is_better
        alert = matching_alert(entry, existing, triaged, cp.index, is_regression)
        if alert is not None:
            matched.add(alert)
            continue
        if cp.index not in machine_changes:
            found = environment_change(session, series_id, entry.commit_ids, cp.index)
            machine_changes[cp.index] = found is not None
        if not machine_changes[cp.index]:
            new += 1
    return matched, new


def _row(candidate: Candidate, tally: _Tally) -> BacktestRow:
    kept = {state: tally.kept[state] for state in TRIAGE_STATES}
    dropped = {state: tally.dropped[state] for state in TRIAGE_STATES}
    real = TRUE + UNWANTED
    kept_real = sum(kept[s] for s in real)
    kept_triaged = kept_real + sum(kept[s] for s in FALSE)
    stored_real = kept_real + sum(dropped[s] for s in real)
    return BacktestRow(
        label=candidate.label,
        assignments=candidate.assignments,
        series=tally.series,
        raised=sum(kept.values()) + tally.new,
        new=tally.new,
        kept=kept,
        dropped=dropped,
        precision=kept_real / kept_triaged if kept_triaged else None,
        recall=kept_real / stored_real if stored_real else None,
    )


# The table's columns (CLI, page): name -> what it counts.
COLUMNS = {
    "series": "series replayed (enough points for a change)",
    "raised": "alerts the setting would hold",
    "kept": "stored alerts it would still raise",
    "new": "alerts no stored alert covers: nobody triaged them",
    "kept true": "kept alerts triaged acknowledged, investigating or fixed",
    "kept invalid": "kept alerts triaged invalid",
    "kept wontfix": "kept alerts triaged wontfix (real, unwanted)",
    "dropped true": "stored true alerts it would no longer raise",
    "dropped invalid": "stored invalid alerts it would no longer raise",
    "dropped wontfix": "stored wontfix alerts it would no longer raise",
    "dropped untriaged": "stored untriaged alerts it would no longer raise",
    "precision": "real (true or wontfix) / triaged, of the kept alerts",
    "recall": "kept real / stored real",
}


def cells(row: BacktestRow) -> dict[str, int | float | None]:
    """The row's values under `COLUMNS`."""
    return {
        "series": row.series,
        "raised": row.raised,
        "kept": row.kept_total,
        "new": row.new,
        "kept true": sum(row.kept[s] for s in TRUE),
        "kept invalid": sum(row.kept[s] for s in FALSE),
        "kept wontfix": sum(row.kept[s] for s in UNWANTED),
        "dropped true": sum(row.dropped[s] for s in TRUE),
        "dropped invalid": sum(row.dropped[s] for s in FALSE),
        "dropped wontfix": sum(row.dropped[s] for s in UNWANTED),
        "dropped untriaged": row.dropped["untriaged"],
        "precision": row.precision,
        "recall": row.recall,
    }


def as_dict(row: BacktestRow) -> dict[str, object]:
    """The row as plain data (the API's and the CLI's ``--json`` shape)."""
    return dataclasses.asdict(row) | {
        "kept_total": row.kept_total,
        "dropped_total": row.dropped_total,
    }
