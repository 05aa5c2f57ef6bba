"""Alerts as the API serves them: each with its series and its commits, filtered and paged.

One joined query per page (no row per alert read afterwards). Pages are
keyset-paged on the alert id, newest first, so a page stays the same while
detection adds alerts and the cost of a page does not grow with its depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from web.models import (
    Alert,
    AlertSummary,
    Branch,
    BranchCommit,
    Commit,
    Machine,
    Series,
)
from web.queries.series_context import NAMING_COLUMNS, series_context


@dataclass(frozen=True)
class FeedSeries:
    id: int
    benchmark_id: int
    benchmark: str
    suite: str
    params: dict[str, str]
    display_name: str | None
    measure: str
    unit: str
    direction: str
    machine: str
    branch: str


@dataclass(frozen=True)
class FeedAlert:
    """One alert with everything needed to act on it without another request."""

    id: int
    summary_id: int
    series: FeedSeries
    first_commit: str
    last_good_commit: str | None
    culprit: str | None
    before: float
    after: float
    rel_change: float
    pvalue: float
    is_regression: bool
    status: str
    confirmation: str
    active: bool
    detector_version: str
    created_at: datetime
    updated_at: datetime
    change: str = "step"  # Alert.kind: "step" or "drift"
    end_commit: str | None = None  # a drift's last commit


@dataclass(frozen=True)
class AlertFilters:
    """What a list asks for; None (or empty) means "any". Commit ends are commit ids.

    ``after_commit`` keeps alerts whose first changed commit comes after that
    commit on the alert's branch, ``until_commit`` those whose first changed
    commit is that commit or an earlier one: together git's ``after..until``.
    An alert on a branch that does not hold the commit is left out.
    """

    status: str | None = None
    regression: bool | None = None
    machine: str | None = None
    branch: str | None = None
    after_commit: int | None = None
    until_commit: int | None = None


_first = aliased(Commit)
_last_good = aliased(Commit)
_culprit = aliased(Commit)
_end = aliased(Commit)


def _feed_select() -> Select[Any]:
    return (
        select(
            Alert.id,
            Alert.summary_id,
            Series.id,
            *NAMING_COLUMNS,
            _first.sha,
            _last_good.sha,
            _culprit.sha,
            Alert.before,
            Alert.after,
            Alert.rel_change,
            Alert.pvalue,
            Alert.is_regression,
            Alert.status,
            Alert.confirmation,
            Alert.active,
            Alert.detector_version,
            Alert.created_at,
            Alert.updated_at,
            Alert.kind,
            _end.sha,
        )
        .select_from(Alert)
        .join(series_context(), Series.id == Alert.series_id)
        .join(_first, _first.id == Alert.first_commit_id)
        .outerjoin(_last_good, _last_good.id == Alert.last_good_commit_id)
        .outerjoin(_culprit, _culprit.id == Alert.culprit_commit_id)
        .outerjoin(_end, _end.id == Alert.end_commit_id)
    )


def _to_alert(row: Sequence[Any]) -> FeedAlert:
    series = FeedSeries(*row[2:13])
    return FeedAlert(row[0], row[1], series, *row[13:])


def _position_on_series_branch(commit_id: int) -> Any:
    """The commit's place on the branch of the series in the outer query (NULL: not on it)."""
    return (
        select(BranchCommit.position)
        .where(BranchCommit.branch_id == Series.branch_id, BranchCommit.commit_id == commit_id)
        .correlate(Series)
        .scalar_subquery()
    )


def _filtered(query: Select[Any], filters: AlertFilters) -> Select[Any]:
    if filters.status:
        query = query.where(Alert.status == filters.status)
    if filters.regression is not None:
        query = query.where(Alert.is_regression.is_(filters.regression))
    if filters.machine:
        query = query.where(Machine.name == filters.machine)
    if filters.branch:
        query = query.where(Branch.name == filters.branch)
    if filters.after_commit is None and filters.until_commit is None:
        return query
    first_at = aliased(BranchCommit)
    query = query.join(
        first_at,
        (first_at.branch_id == Series.branch_id) & (first_at.commit_id == Alert.first_commit_id),
    )
    if filters.after_commit is not None:
        query = query.where(first_at.position > _position_on_series_branch(filters.after_commit))
    if filters.until_commit is not None:
        query = query.where(first_at.position <= _position_on_series_branch(filters.until_commit))
    return query


def list_alerts(
    session: Session,
    project_id: int,
    filters: AlertFilters,
    *,
    limit: int,
    before_id: int | None = None,
) -> list[FeedAlert]:
    """Up to ``limit`` alerts of the project matching ``filters``, newest (highest id) first.

    ``before_id`` continues a list: only alerts with a smaller id are returned.
    """
    query = _filtered(_feed_select().where(Series.project_id == project_id), filters)
    if before_id is not None:
        query = query.where(Alert.id < before_id)
    query = query.order_by(Alert.id.desc()).limit(limit)
    return [_to_alert(row) for row in session.execute(query)]


def find_alert(session: Session, project_id: int, alert_id: int) -> FeedAlert | None:
    """The alert if it belongs to the project, else None (one answer for both)."""
    row = session.execute(
        _feed_select().where(Alert.id == alert_id, Series.project_id == project_id)
    ).first()
    return None if row is None else _to_alert(row)


def summary_alerts(session: Session, summary_id: int) -> list[FeedAlert]:
    """Every alert of the summary, largest change first."""
    rows = session.execute(_feed_select().where(Alert.summary_id == summary_id))
    return sorted((_to_alert(r) for r in rows), key=lambda a: (-abs(a.rel_change), a.id))


@dataclass(frozen=True)
class FeedSummary:
    summary: AlertSummary
    branch: str
    first_commit: str
    last_good_commit: str | None


def find_summary(session: Session, project_id: int, summary_id: int) -> FeedSummary | None:
    """The summary with its branch and range ends if it belongs to the project, else None."""
    row = session.execute(
        select(AlertSummary, Branch.name, _first.sha, _last_good.sha)
        .join(Branch, Branch.id == AlertSummary.branch_id)
        .join(_first, _first.id == AlertSummary.first_commit_id)
        .outerjoin(_last_good, _last_good.id == AlertSummary.last_good_commit_id)
        .where(AlertSummary.id == summary_id, AlertSummary.project_id == project_id)
    ).first()
    return None if row is None else FeedSummary(*row)


def find_commit(session: Session, project_id: int, sha_prefix: str) -> int | None:
    """The id of the project's one commit whose sha starts with ``sha_prefix``; None if not one."""
    ids = session.scalars(
        select(Commit.id)
        .where(
            Commit.project_id == project_id,
            Commit.sha.startswith(sha_prefix.lower(), autoescape=True),
        )
        .limit(2)
    ).all()
    return ids[0] if len(ids) == 1 else None
