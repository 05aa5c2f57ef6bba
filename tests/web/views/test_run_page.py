"""The run page answers "can I trust this run?" (issue 16, item 5).

The review saw preflight as a raw Python dict while the run said "ok", memory
in raw bytes, a log running off the right edge and no way to compare with the
parent commit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_history, make_project, sha
from tests.web.views.test_trend_page import NOISY, mark_noisy
from web.models import Commit, Run
from web.views.preflight import checklist
from web.views.run_page import duration, show_fact


def run_of(session: Session, commit: int) -> Run:
    run = session.scalar(
        select(Run).join(Commit, Commit.id == Run.commit_id).where(Commit.sha == sha(commit))
    )
    assert run is not None
    return run


def history(session: Session) -> None:
    project = make_project(session, "proj")
    project.repo_url = "https://forge.example/org/proj"
    make_history(session, project, {"fast": [1e-3] * 5, "big": [3.0e6] * 5}, stddev=1e-5)


def page_of(client, run: Run) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/p/proj/runs/{run.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_preflight_is_a_checklist_and_the_run_is_noisy(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    history(db_session)
    run = mark_noisy(db_session, 3)
    page = page_of(client, run)
    assert "{'load_1m'" not in page and "&#39;load_1m&#39;" not in page  # no raw dict
    items = re.findall(r'<li class="(failed|passed|unknown)">', page)
    assert items == ["failed", "passed", "failed", "passed", "passed", "passed"]
    assert 'id="run-noisy"' in page and ">noisy</span>" in page
    assert "2 of 6 pre-flight checks failed" in page
    assert "3.50 on 2 CPUs" in page and "8.00 GiB" in page  # memory in human units


def test_quiet_run_and_ci_upload_are_not_noisy(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    history(db_session)
    quiet = run_of(db_session, 2)
    quiet_checks = {**NOISY["extra"]["preflight"], "problems": []}
    quiet.machine_snapshot = {"extra": {"preflight": quiet_checks}}
    db_session.commit()
    page = page_of(client, quiet)
    assert 'id="run-noisy"' not in page and 'class="failed"' not in page
    ci = page_of(client, run_of(db_session, 1))
    assert "recorded no pre-flight checks" in ci and 'id="run-noisy"' not in ci


def test_checklist_reads_the_runners_sentences() -> None:
    facts = {"load_1m": 0.1, "cpus": 8, "governors": None, "turbo": None, "aslr": 0,
             "free_bytes": 100 * 2**20, "busy_processes": [],
             "problems": ["only 100 MiB memory free", "fan is loud"]}  # fmt: skip
    checks = checklist({"extra": {"preflight": facts}})
    assert checks is not None and checks.noisy
    by_label = {c.label: c for c in checks.checks}
    assert by_label["Free memory"].passed is False and by_label["Free memory"].value == "100 MiB"
    assert by_label["CPU frequency governor"].passed is None  # the OS did not say
    assert by_label["Other"].problem == "fan is loud"
    assert checklist({"extra": {"preflight": "garbage"}}) is None
    odd = checklist({"extra": {"preflight": {"load_1m": "high", "free_bytes": [1], "problems": 3}}})
    assert odd is not None and [c.value for c in odd.checks][:1] == ["high"]
    assert checklist(None) is None


def test_human_units_and_durations() -> None:
    assert show_fact("memory_bytes", 16 * 2**30) == "16.0 GiB"
    assert show_fact("memory_bytes", 1536) == "1.50 KiB"
    assert show_fact("cpus", [2, 3]) == "2, 3"
    assert show_fact("os", None) == "—"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert duration(start, start + timedelta(seconds=754)) == "12 min 34 s"
    assert duration(start, start + timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert duration(start, None) is None and duration(start, start - timedelta(1)) is None


def test_log_wraps_and_has_a_filter_without_inline_script(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    history(db_session)
    run = run_of(db_session, 3)
    run.log = "step 1 <script>alert(1)</script>\n" + "x" * 5000 + "\nERROR: timed out"
    db_session.commit()
    page = page_of(client, run)
    assert 'id="log-filter"' in page and 'type="search"' in page
    assert '<pre class="log" id="run-log"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []  # CSP: script-src 'self'
    assert "dash/run.js" in page and "(3 lines)" in page


def test_links_to_trends_and_to_compare_with_the_parent(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    history(db_session)
    run = run_of(db_session, 3)
    page = page_of(client, run)
    compare = re.search(r'id="compare-parent" href="([^"]+)"', page)
    assert compare is not None
    href = compare.group(1).replace("&amp;", "&")
    assert f"baseline={sha(2)}" in href and f"candidate={sha(3)}" in href
    assert client.get(href).status_code == 200
    trends = re.findall(r'class="trend-link" href="([^"]+)"', page)
    assert len(trends) == 2 and all("branch=main" in t for t in trends)
    first = page_of(client, run_of(db_session, 1))
    assert 'id="compare-parent"' not in first  # nothing before the first commit


def test_missing_or_foreign_runs_are_404(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    history(db_session)
    other = make_project(db_session, "other")
    make_history(db_session, other, {"x": [1.0]}, first_commit=100)
    foreign = run_of(db_session, 100)
    assert client.get(f"/p/proj/runs/{foreign.id}").status_code == 404
    assert client.get("/p/proj/runs/99999999").status_code == 404
    assert client.get("/p/proj/runs/abc").status_code == 404


def test_odd_snapshots_render(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """A snapshot is the submitter's JSON: any shape shows as text, never a 500."""
    history(db_session)
    odd = [
        ["not", "a", "dict"],
        {"extra": ["x"]},
        {"extra": {"preflight": {"load_1m": "high", "problems": "loud"}}},
        {"memory_bytes": "lots", "extra": {"preflight": {"free_bytes": {"a": 1}}}},
    ]
    for n, snapshot in enumerate(odd, start=1):
        run = run_of(db_session, n)
        run.machine_snapshot = snapshot  # type: ignore[assignment]
        db_session.commit()
        page_of(client, run)
