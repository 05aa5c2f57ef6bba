"""Detection after ingest, on both engines, with series built through the ingest API."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import DETECTOR_VERSION
from tests.factories import make_project, make_token, native_results, post_results, sha
from web.models import Alert, AlertSummary, Annotation, Commit, Series
from web.services.detection import detect_series


@pytest.fixture()
def token(db_session: Session) -> str:
    return make_token(db_session, make_project(db_session, "proj"))


def _history(client, token, n: int, levels, *, direction="lower_is_better", start=0, seed=1):  # type: ignore[no-untyped-def]
    """Post n commits; ``levels(i)`` gives each benchmark's true level at commit i."""
    rng = np.random.default_rng(seed)
    for i in range(start, start + n):
        values = {
            name: level * (1 + 0.005 * rng.standard_normal()) for name, level in levels(i).items()
        }
        parents = [sha(i - 1)] if i else []
        post_results(
            client, token, sha(i), native_results(values, direction=direction), parents=parents
        )


def _alerts(db_session: Session) -> list[tuple[Alert, str, str | None]]:
    # Early passes over a short history may raise a change that later data
    # disproves; those are kept but marked inactive.
    rows = db_session.execute(select(Alert).where(Alert.active)).scalars().all()
    out = []
    for alert in rows:
        first = db_session.get(Commit, alert.first_commit_id)
        good = (
            db_session.get(Commit, alert.last_good_commit_id) if alert.last_good_commit_id else None
        )
        out.append((alert, first.sha, good.sha if good else None))  # type: ignore[union-attr]
    return out


def test_planted_slowdown_raises_one_grouped_summary(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _history(
        client,
        token,
        30,
        lambda i: {"a": 1.0 if i < 15 else 1.2, "b": 2.0 if i < 15 else 2.4, "c": 3.0},
    )
    alerts = _alerts(db_session)
    assert sorted((a.is_regression, first, good) for a, first, good in alerts) == [
        (True, sha(15), sha(14)),
        (True, sha(15), sha(14)),
    ]
    alert = alerts[0][0]
    assert alert.rel_change == pytest.approx(0.2, abs=0.03)
    assert alert.detector_version == DETECTOR_VERSION
    assert alert.thresholds["min_segment"] >= 2
    assert alert.pvalue < 0.01
    summaries = {a.summary_id for a, _, _ in alerts}
    assert len(summaries) == 1
    assert db_session.get(AlertSummary, summaries.pop()).status == "untriaged"
    series = db_session.scalars(select(Series)).all()
    assert all(s.noise is not None and s.noise < 0.02 for s in series)


def test_improvement_and_higher_is_better(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _history(
        client,
        token,
        24,
        lambda i: {"ops": 100.0 if i < 12 else 120.0},
        direction="higher_is_better",
    )
    ((alert, first, _),) = _alerts(db_session)
    assert first == sha(12)
    assert alert.is_regression is False and alert.rel_change > 0


def test_flat_series_raises_nothing(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _history(client, token, 30, lambda i: {"a": 1.0})
    assert _alerts(db_session) == []


def test_triaged_alert_is_not_raised_again(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _history(client, token, 20, lambda i: {"a": 1.0 if i < 10 else 1.3})
    ((alert, _, _),) = _alerts(db_session)
    alert.status = "wontfix"
    db_session.commit()
    _history(client, token, 10, lambda i: {"a": 1.3}, start=20, seed=2)
    alerts = _alerts(db_session)
    assert len(alerts) == 1 and alerts[0][0].status == "wontfix"


def test_known_change_annotation_suppresses_the_alert(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _history(client, token, 10, lambda i: {"a": 1.0})
    series = db_session.scalars(select(Series)).one()
    # The team knows the commit that is coming changes the level on purpose.
    post_results(client, token, sha(10), native_results({"a": 1.5}), parents=[sha(9)])
    commit = db_session.scalar(select(Commit).where(Commit.sha == sha(10)))
    db_session.add(
        Annotation(
            series_id=series.id, commit_id=commit.id, kind="known_change", note="new algorithm"
        )
    )
    db_session.commit()
    _history(client, token, 10, lambda i: {"a": 1.5}, start=11)
    assert _alerts(db_session) == []


def test_redetection_is_idempotent(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _history(client, token, 20, lambda i: {"a": 1.0 if i < 10 else 1.3})
    series = db_session.scalars(select(Series)).one()
    assert detect_series(db_session, series.id) == []
    assert len(_alerts(db_session)) == 1


def test_project_thresholds_override_the_defaults(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    from web.services.projects import find_project

    _history(client, token, 11, lambda i: {"a": 1.0 if i < 4 else 1.5})
    assert _alerts(db_session) == []  # 4 points before the step: shorter than 5-point segments
    project = find_project(db_session, "proj")
    settings = {"detector": {"min_segment": 3, "alpha": 0.05}}
    project.settings = settings  # type: ignore[union-attr]
    db_session.commit()
    _history(client, token, 1, lambda i: {"a": 1.5}, start=11, seed=3)
    ((alert, first, _),) = _alerts(db_session)
    assert first == sha(4) and alert.thresholds["min_segment"] == 3


def _timed_and_counted(client, token, n: int, time_level, count_level) -> None:  # type: ignore[no-untyped-def]
    """Post n commits with a time and an instruction count per benchmark, in one file."""
    import json

    rng = np.random.default_rng(3)
    for i in range(n):
        records = [
            {"suite": "suite", "name": "a", "measure": "time", "unit": "s",
             "value": time_level(i) * (1 + 0.005 * rng.standard_normal())},
            {"suite": "suite", "name": "a", "measure": "instructions", "unit": "instructions",
             "value": float(count_level(i))},
        ]  # fmt: skip
        data = json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()
        post_results(client, token, sha(i), data, parents=[sha(i - 1)] if i else [])


def _alerted_measures(db_session: Session) -> list[str]:
    from web.models import Measure

    return sorted(
        db_session.scalars(
            select(Measure.name)
            .join(Series, Series.measure_id == Measure.id)
            .join(Alert, Alert.series_id == Series.id)
            .where(Alert.active)
        )
    )


def test_a_time_step_is_no_alert_when_the_count_did_not_move(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    # a busy machine slows every process from commit 15 on; the code did not change
    _timed_and_counted(client, token, 30, lambda i: 1.0 if i < 15 else 1.4, lambda i: 5_000_000)
    assert _alerted_measures(db_session) == []


def test_a_count_step_alerts_on_the_count(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    _timed_and_counted(
        client, token, 30, lambda i: 1.0 if i < 15 else 1.2, lambda i: 5_000_000 if i < 15 else 6e6
    )
    assert _alerted_measures(db_session) == ["instructions"]


def test_a_change_seen_closer_stays_the_same_alert(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    """Bisection measures commits inside an alert's range; the change point then moves
    to one of them, and the alert (with its confirmation and culprit) must stay."""
    _history(client, token, 30, lambda i: {"a": 1.0 if i < 15 else 1.2})
    ((before, first, good),) = _alerts(db_session)
    assert (first, good) == (sha(15), sha(14))
    before.confirmation = "confirmed"
    db_session.commit()
    # a commit measured inside the range (a bisection step), already at the new level
    inside = "f" * 40
    post_results(client, token, inside, native_results({"a": 1.2}), parents=[sha(14)])
    db_session.expire_all()
    ((after, _, _),) = _alerts(db_session)
    assert after.id == before.id and after.confirmation == "confirmed"
    assert db_session.scalar(select(Alert).where(~Alert.active)) is None, "nothing deactivated"


def test_times_from_a_noisy_machine_stay_out_of_detection(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    """From commit 20 on the machine is busy (pre-flight problems): its times read
    40% slow while its counts stay exact. No alert on time; the count's real step
    at commit 25 alerts."""
    import json

    rng = np.random.default_rng(5)
    busy = {"name": "box1", "extra": {"preflight": {"problems": ["load average 3.6 on 2 CPUs"]}}}
    for i in range(40):
        noisy = i >= 20
        records = [
            {"suite": "suite", "name": "a", "measure": "time", "unit": "s",
             "value": (1.4 if noisy else 1.0) * (1 + 0.005 * rng.standard_normal())},
            {"suite": "suite", "name": "b", "measure": "instructions", "unit": "instructions",
             "value": 5e6 if i < 25 else 6e6},
        ]  # fmt: skip
        data = json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()
        machine = busy if noisy else {"name": "box1"}
        post_results(
            client, token, sha(i), data, parents=[sha(i - 1)] if i else [], machine=machine
        )
    assert _alerted_measures(db_session) == ["instructions"]


def test_a_new_machine_is_an_environment_change_not_a_regression(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    """At commit 15 the runner's CPU is replaced (20% slower on every benchmark);
    at commit 30 the code slows by 10%. One alert, at 30; the machine change is an
    annotation on the series, at 15."""
    rng = np.random.default_rng(11)
    for i in range(45):
        level = (1.2 if i >= 15 else 1.0) * (1.1 if i >= 30 else 1.0)
        data = native_results({"a": level * (1 + 0.005 * rng.standard_normal())})
        cpu = "Old CPU @ 2.0GHz" if i < 15 else "New CPU @ 1.6GHz"
        machine = {"name": "box1", "cpu_model": cpu, "cores": 2}
        parents = [sha(i - 1)] if i else []
        post_results(client, token, sha(i), data, parents=parents, machine=machine)
    alerts = _alerts(db_session)
    assert [(a.is_regression, first) for a, first, _ in alerts] == [(True, sha(30))]
    notes = db_session.execute(
        select(Annotation.kind, Annotation.note, Commit.sha).join(
            Commit, Commit.id == Annotation.commit_id
        )
    ).all()
    change = "environment changed: CPU model Old CPU @ 2.0GHz → New CPU @ 1.6GHz"
    assert notes == [("environment", change, sha(15))]
