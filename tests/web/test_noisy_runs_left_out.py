"""Noisy runs are kept out, not trusted (issue 20, item 4).

A run whose pre-flight checks failed (a loaded machine) is stored and shown,
but its wall times do not make "Last", the sparklines or a comparison of
commits unless asked for. Its instruction counts still do: load does not move
them. The review saw "Last 2.37 ms" come from one noisy run.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_history, make_project, sha
from tests.web.reruns import add_job_run
from web.models import Commit, Run, Series
from web.queries.listing import sparklines
from web.services.compare import compare_commits

PROBLEMS = {"extra": {"preflight": {"problems": ["load average 3.58 on 2 CPUs"]}}}


def _make_noisy(session: Session, run: Run) -> None:
    run.machine_snapshot = {**(run.machine_snapshot or {}), **PROBLEMS}
    session.commit()


def _run_of(session: Session, commit: int) -> Run:
    run = session.scalar(
        select(Run).join(Commit, Commit.id == Run.commit_id).where(Commit.sha == sha(commit))
    )
    assert run is not None
    return run


@pytest.fixture()
def timed(db_session: Session) -> Series:
    """Ten commits at 1 ms; the newest one measured only on a loaded machine (2.37 ms)."""
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"bench": [1e-3] * 9 + [2.37e-3]}, samples=10)
    _make_noisy(db_session, _run_of(db_session, 10))
    return series["bench"]


def test_last_and_sparkline_leave_out_a_noisy_runs_time(client, timed, db_session) -> None:  # type: ignore[no-untyped-def]
    line = sparklines(db_session, [timed.id])[timed.id]
    assert line == [1e-3] * 9  # commit 10 has no trusted time yet
    listing = client.get("/p/proj/benchmarks").get_data(as_text=True)
    assert "2.37 ms" not in listing and '<td class="num">1.00 ms</td>' in listing


def test_a_quiet_rerun_of_the_commit_is_its_value(client, timed, db_session) -> None:  # type: ignore[no-untyped-def]
    add_job_run(db_session, timed, 10, 1.2e-3)
    db_session.commit()
    line = sparklines(db_session, [timed.id])[timed.id]
    assert line[-1] == pytest.approx(1.2e-3) and len(line) == 10


def test_instruction_counts_of_a_noisy_run_still_count(db_session: Session) -> None:
    project = make_project(db_session, "proj")
    counted = make_history(
        db_session,
        project,
        {"bench": [1000.0] * 9 + [1150.0]},
        measure="instructions",
        unit="count",
    )["bench"]
    _make_noisy(db_session, _run_of(db_session, 10))
    assert sparklines(db_session, [counted.id])[counted.id][-1] == 1150.0


def test_compare_leaves_noisy_times_out_unless_asked(timed, db_session) -> None:  # type: ignore[no-untyped-def]
    add_job_run(db_session, timed, 10, 1.0e-3)  # a quiet re-run of the noisy commit
    db_session.commit()
    quiet = compare_commits(db_session, timed.project_id, sha(9), sha(10))
    assert quiet.noisy_left_out == 1
    assert [r.candidate_center for r in quiet.rows] == [pytest.approx(1.0e-3)]
    everything = compare_commits(db_session, timed.project_id, sha(9), sha(10), include_noisy=True)
    assert everything.noisy_left_out == 0
    assert everything.rows[0].candidate_center > 1.0e-3  # the 2.37 ms process pooled in


def test_compare_page_says_what_it_left_out_and_links_to_it(client, timed) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/p/proj/compare?baseline={sha(9)}&candidate={sha(10)}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    note = re.search(r'data-warning="noisy_left_out">(.*?)</p>', text, re.S)
    assert note is not None and "1 wall-time result from noisy runs left out" in note.group(1)
    # the only candidate result was noisy: the benchmark is on one side only, not a +137 % row
    assert "only in the baseline" in text
    link = re.search(r'href="([^"]*noisy=1[^"]*)"', note.group(1))
    assert link is not None
    asked = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-warning="noisy_included"' in asked and "only in the baseline" not in asked


def test_sparklines_read_the_stored_points_detection_built(db_session: Session) -> None:
    """Through ingest and detection: lines come from ``series_point`` (one row per commit),
    equal to merging the results, with the noisy run's time left out there too."""
    from runner.schema import ParsedRun, ResultRecord, RunPayload
    from web.models import SeriesState
    from web.queries.points import points_from_results
    from web.services.detection import detect_for_run
    from web.services.ingest import ingest_run

    project = make_project(db_session, "proj")
    for i in range(1, 41):
        machine: dict[str, object] = {"name": "box"}
        if i == 40:  # the newest commit measured on a loaded machine
            machine["extra"] = PROBLEMS["extra"]
        payload = RunPayload(
            project="proj",
            commit=sha(i),
            branch="main",
            parents=[sha(i - 1)] if i > 1 else [],
            machine=machine,
            idempotency_key=f"ci-{i}",
        )
        value = 2.37e-3 if i == 40 else 1e-3 * (1 + 0.01 * (i % 3))
        record = ResultRecord(suite="s", name="b", measure="time", unit="s", value=value)
        run = ingest_run(db_session, project, payload, ParsedRun(results=[record]), "custom").run
        detect_for_run(db_session, run.id)
    db_session.commit()
    series = db_session.scalars(select(Series)).one()
    assert db_session.get(SeriesState, series.id).points == 39  # type: ignore[union-attr]
    line = sparklines(db_session, [series.id], points=30)[series.id]
    expected = [p.value for p in points_from_results(db_session, [series.id])[series.id]][-30:]
    assert line == expected and len(line) == 30 and max(line) < 2e-3
