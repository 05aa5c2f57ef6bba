"""A gradual change is one drift alert over its range, never steps at innocent commits
(issue 19, item 2: the service side).

A level that creeps up by 6 % (6 noise sigmas) over 150 commits used to be cut
into steps, each an alert naming a commit that did nothing special. Now it is
one alert of kind ``drift`` from the ramp's first commit to its last, kept as
one alert while the ramp goes on run after run, not confirmed or bisected (no
one commit to blame), shown as a range on the trend data and the alerts page.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.schema import ParsedRun, ResultRecord, RunPayload
from tests.factories import make_alert, make_history, make_project, sha
from web.models import Alert, Commit, Job, Project
from web.services.backtest import backtest, candidates
from web.services.confirm import confirm_alerts
from web.services.detection import detect_for_run
from web.services.ingest import ingest_run

RAMP_START, RAMP_END = 100, 250  # indices: the level ramps over [100, 250)


def ramp(n: int = 350, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    level = np.r_[np.full(100, 100.0), np.linspace(100.0, 106.0, 150), np.full(n - 250, 106.0)]
    return list(level[:n] + rng.normal(0.0, 1.0, n))


def step(n: int = 120, seed: int = 2) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(np.where(np.arange(n) < 60, 100.0, 110.0) + rng.normal(0.0, 1.0, n))


def _sha(i: int) -> str:
    return f"{i:040x}"


class Recorder:
    def after_commit(self, *args: object, **kwargs: object) -> None:
        """Confirmation jobs are not sent anywhere in these tests."""


def _post(session: Session, project: Project, values: dict[str, list[float]]) -> int:
    """One run per commit through ingest and detection, as a CI upload would be."""
    alerts = 0
    length = max(len(v) for v in values.values())
    for i in range(length):
        records = [
            ResultRecord(suite="s", name=name, measure="time", unit="s", value=series[i])
            for name, series in values.items()
            if i < len(series)
        ]
        payload = RunPayload(
            project=project.name,
            commit=_sha(i + 1),
            branch="main",
            parents=[_sha(i)] if i else [],
            machine={"name": "box"},
            idempotency_key=f"ci-{i}",
        )
        run = ingest_run(session, project, payload, ParsedRun(results=records), "custom").run
        alerts += len(detect_for_run(session, run.id).new_alert_ids)
    session.commit()
    return alerts


def _index(session: Session, commit_id: int | None) -> int:
    commit = session.get(Commit, commit_id)
    assert commit is not None
    return int(commit.sha, 16) - 1


def test_a_slow_ramp_is_one_drift_alert_over_its_range(db_session: Session) -> None:
    project = make_project(db_session, "proj")
    project.repo_url = "https://forge.example/org/proj"
    raised = _post(db_session, project, {"creep": ramp(), "jump": step()})
    alerts = list(db_session.scalars(select(Alert).order_by(Alert.id)))
    drifts = [a for a in alerts if a.kind == "drift" and a.active]
    steps = [a for a in alerts if a.kind == "step" and a.active]
    assert len(drifts) == 1 and len(steps) == 1, [(a.kind, a.active) for a in alerts]
    drift = drifts[0]
    assert abs(_index(db_session, drift.first_commit_id) - RAMP_START) <= 12
    assert abs(_index(db_session, drift.end_commit_id) - (RAMP_END - 1)) <= 12
    assert drift.rel_change == pytest.approx(0.06, abs=0.01) and drift.is_regression
    assert abs(_index(db_session, steps[0].first_commit_id) - 60) <= 1
    # the ramp grew run after run: one drift alert all along, not a new one per run
    assert raised == len(alerts) == 2
    # no one commit to re-run against its parent: a drift is neither confirmed nor bisected
    assert confirm_alerts(db_session, Recorder(), [drift.id]) == []  # type: ignore[arg-type]
    assert db_session.scalar(select(Job.id)) is None
    # the threshold backtest replays drifts as detection raises them: both alerts kept
    (current,) = backtest(db_session, project, candidates(project))
    assert (current.raised, current.new, current.kept["untriaged"]) == (2, 0, 2)
    assert sum(current.dropped.values()) == 0


def test_pages_show_a_drift_as_a_range(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    values = [1.0] * 20 + [1.0 + 0.06 * k / 24 for k in range(1, 25)] + [1.06] * 20
    series = make_history(db_session, project, {"creep": values})["creep"]
    alert = make_alert(db_session, series, 21, before=1.0, after=1.06)
    end = db_session.scalars(select(Commit).where(Commit.sha == sha(44))).one()
    alert.kind, alert.end_commit_id = "drift", end.id
    db_session.commit()
    body = client.get(f"/p/proj/series/{series.id}/points.json").json
    (mark,) = body["alerts"]
    assert mark["kind"] == "drift" and (mark["i"], mark["end_i"]) == (20, 43)
    board = client.get("/p/proj/alerts").get_data(as_text=True)
    assert "data-drift>Drift +6.0%" in board
    assert f"<code data-drift-end>{sha(44)[:10]}</code>" in board
    assert "not bisected" in board
    trend = client.get(f"/p/proj/benchmarks/{series.benchmark_id}").get_data(as_text=True)
    assert "drift (regression)" in trend
    (listed,) = client.get("/api/v1/projects/proj/alerts").json["alerts"]
    assert listed["change"] == "drift" and listed["kind"] == "regression"
    assert (listed["first_commit"], listed["end_commit"]) == (sha(21), sha(44))
