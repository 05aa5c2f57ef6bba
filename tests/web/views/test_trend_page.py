"""The trend plot's data says what a reader must see at a glance (issue 16, item 1).

- the spread is robust (interquartile range) and never below zero for a positive measure;
- an outlier and a run from a noisy machine (failed preflight) are flagged, so the plot
  draws them hollow and leaves them out of the y range;
- each change point carries its before/after levels for the horizontal segments.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_alert, make_history, make_project, sha
from tests.web.reruns import add_job_run
from web.models import Commit, Run

NOISY = {
    "extra": {
        "preflight": {
            "load_1m": 3.5,
            "cpus": 2,
            "governors": ["powersave"],
            "turbo": True,
            "aslr": 2,
            "free_bytes": 8 * 2**30,
            "busy_processes": ["123:cc1"],
            "problems": ["load average 3.50 on 2 CPUs", "turbo boost is on"],
        }
    }
}


def points_of(client, series) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/p/proj/series/{series.id}/points.json")
    assert response.status_code == 200
    return response.json


def mark_noisy(session: Session, commit: int) -> Run:
    """Record a failed preflight on the run of ``sha(commit)``."""
    run = session.scalar(
        select(Run).join(Commit, Commit.id == Run.commit_id).where(Commit.sha == sha(commit))
    )
    assert run is not None
    run.machine_snapshot = {**run.machine_snapshot, **NOISY}
    session.commit()
    return run


def test_band_never_goes_below_zero(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """±stddev of a noisy process went below zero on the demo's page: the band may not."""
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"b": [1e-3] * 10}, stddev=5e-3)["b"]
    points = points_of(client, series)["points"]
    assert min(points["lo"]) >= 0.0
    bands = zip(points["lo"], points["value"], points["hi"], strict=True)
    assert all(lo <= v <= hi for lo, v, hi in bands)


def test_band_is_the_interquartile_range_of_the_samples(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    # samples are v * (0.998, 0.999, 1, 1.001, 1.002): quartiles 0.999 v and 1.001 v
    series = make_history(db_session, project, {"b": [2.0] * 5}, stddev=0.5, samples=5)["b"]
    points = points_of(client, series)["points"]
    assert points["lo"] == pytest.approx([1.998] * 5)
    assert points["hi"] == pytest.approx([2.002] * 5)


def test_outliers_and_noisy_runs_are_flagged(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    values = [1e-3 * (1 + 0.01 * (i % 3)) for i in range(40)]
    values[10] = 2.37e-3  # one noisy process
    series = make_history(db_session, project, {"b": values}, stddev=1e-5)["b"]
    noisy = mark_noisy(db_session, 31)  # index 30
    rerun = add_job_run(db_session, series, 5, 1e-3)  # a quiet re-run of index 4
    points = points_of(client, series)["points"]
    assert [i for i, flag in enumerate(points["outlier"]) if flag] == [10]
    assert [i for i, flag in enumerate(points["noisy"]) if flag] == [30]
    assert points["noisy_runs"] == [noisy.id]
    assert rerun.id not in points["noisy_runs"]


def test_a_step_is_not_an_outlier(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    values = [1e-3] * 20 + [1.5e-3] * 20
    series = make_history(db_session, project, {"b": values}, stddev=1e-6)["b"]
    make_alert(db_session, series, 21, before=1e-3, after=1.5e-3)
    body = points_of(client, series)
    assert not any(body["points"]["outlier"])
    (alert,) = body["alerts"]
    assert alert["i"] == 20
    assert (alert["before"], alert["after"]) == (1e-3, 1.5e-3)


def test_bad_range_is_a_clear_400(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"b": [1.0] * 3})["b"]
    response = client.get(f"/p/proj/series/{series.id}/points.json?start=x")
    assert response.status_code == 400
    assert "start must be a whole number" in response.json["error"]["message"]
    assert client.get("/p/proj/series/999999/points.json").status_code == 404


def test_points_table_shows_the_plots_band(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"b": [1e-3] * 3}, stddev=5e-3)["b"]
    mark_noisy(db_session, 2)
    page = client.get(f"/p/proj/series/{series.id}/points").get_data(as_text=True)
    assert "Spread (IQR)" in page and "± " not in page  # ±5 ms went below zero
    assert page.count("0.00 s – 4.37 ms") == 3  # clipped at zero, value + 0.6745 σ
    assert page.count(">noisy</span>") == 1


def test_change_points_link_their_alert_page(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"b": [1.0] * 5 + [2.0] * 5})["b"]
    alert = make_alert(db_session, series, 6)
    page = client.get(f"/p/proj/benchmarks/{series.benchmark_id}").get_data(as_text=True)
    assert f'href="/p/proj/alert/{alert.id}"' in page
