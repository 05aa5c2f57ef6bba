"""One point per commit: re-runs of a commit are samples of its point, never new x positions.

A series of 11 commits gets 6 confirmation runs (3 of commit 10, 3 of commit
11). Every reader must show 11 points whose values are the detector's (the
median of the commit's ok results) and list the extra runs under their commit.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_history, make_project, sha
from tests.web.reruns import add_job_run
from web.queries.listing import sparklines
from web.queries.points import points_from_results
from web.queries.run_kinds import run_kinds

# commit 10: 1.0 then 2, 2, 2 -> median 2.0; commit 11: 1.0 then 1.5, 3, 3 -> median 2.25
RERUNS = [(10, 2.0), (10, 2.0), (10, 2.0), (11, 1.5), (11, 3.0), (11, 3.0)]


@pytest.fixture()
def rerun(db_session: Session):  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"bench": [1.0] * 11}, stddev=0.01)["bench"]
    runs = [add_job_run(db_session, series, commit, value) for commit, value in RERUNS]
    return series, runs


def _detector_values(session: Session, series_id: int) -> list[float]:
    return [p.value for p in points_from_results(session, [series_id])[series_id]]


def test_plot_data_has_one_point_per_commit(client, rerun, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    series, _ = rerun
    body = client.get(f"/p/proj/series/{series.id}/points.json").json
    points = body["points"]
    assert body["total"] == 11 and points["i"] == list(range(11))
    assert points["sha"] == [sha(n) for n in range(1, 12)]
    assert points["value"] == _detector_values(db_session, series.id)
    assert points["value"][-2:] == [2.0, 2.25]
    assert [len(r) for r in points["runs"]] == [1] * 9 + [4, 4]
    assert sorted(points["run_values"][-1]) == [1.0, 1.5, 3.0, 3.0]
    assert points["run_id"][-1] == points["runs"][-1][0]
    # the band of a re-measured commit spans the quartiles of its runs (1.0, 1.5, 3, 3)
    assert points["lo"][-1] == pytest.approx(1.375) and points["hi"][-1] == 3.0


def test_api_serves_one_point_per_commit(client, rerun, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    series, runs = rerun
    points = client.get(f"/api/v1/projects/proj/series/{series.id}").json["points"]
    assert points["sha"] == [sha(n) for n in range(1, 12)]
    assert points["value"] == _detector_values(db_session, series.id)
    assert points["status"] == ["ok"] * 11
    assert points["runs"][-1][1:] == [r.id for r in runs[3:]]
    assert points["run_values"][-1] == [1.0, 1.5, 3.0, 3.0]


def test_page_table_and_last_follow_the_commit(client, rerun, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    series, _ = rerun
    page = client.get(f"/p/proj/benchmarks/{series.benchmark_id}").get_data(as_text=True)
    table = page[page.index('<table class="points">') :]
    table = table[: table.index("</table>")]
    assert len(re.findall(r"<tr(?: class=\"marked\")?>\n  <td", table)) == 11
    assert table.count("(confirm)") == 6 and table.count("(ci)") == 11
    listing = client.get("/p/proj/benchmarks").get_data(as_text=True)
    assert '<td class="num">2.25 s</td>' in listing
    line = sparklines(db_session, [series.id])[series.id]
    assert line == _detector_values(db_session, series.id) and len(line) == 11


def test_runs_say_what_made_them(rerun, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    series, runs = rerun
    kinds = run_kinds(db_session, [r.id for r in runs])
    assert set(kinds.values()) == {"confirm"}
    bisect = add_job_run(db_session, series, 5, 1.0, kind="bisect")
    ab = add_job_run(db_session, series, 5, 1.0, kind="ab")
    scheduled = add_job_run(db_session, series, 5, 1.0, kind="run")
    assert run_kinds(db_session, [bisect.id, ab.id, scheduled.id]) == {
        bisect.id: "bisect", ab.id: "ab", scheduled.id: "schedule",
    }  # fmt: skip
    # a CI upload whose key merely looks like a job's, of a job in another project, stays "ci"
    other = make_project(db_session, "other")
    foreign = make_history(db_session, other, {"x": [1.0]})["x"]
    stolen = add_job_run(db_session, foreign, 1, 1.0)
    stolen.project_id = series.project_id  # now a run of proj naming other's job
    db_session.commit()
    assert run_kinds(db_session, [stolen.id])[stolen.id] == "ci"
