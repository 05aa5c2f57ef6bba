"""Params wherever a benchmark is named, and why a comparison is inconclusive.

Two parametrizations of ``test_bi`` (n=1, n=2) must never read as two identical
rows: on the alerts, run and compare pages, in webhook notifications and in the
PR comment. An inconclusive comparison says why and what would decide it.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.types import Comparison, Thresholds, Verdict
from tests.factories import make_alert, make_history, make_project, sha
from tests.web.github.test_render import _report, _row
from web.github.notify import _report_row
from web.github.outgoing import summary_payload
from web.github.render import escape, render_comment
from web.github.report import Category
from web.models import AlertSummary, Benchmark, Result
from web.models.naming import benchmark_label
from web.services.compare import compare_commits
from web.services.inconclusive import Evidence, explain
from web.services.pr_compare import Baseline, MachineComparison

LABELS = ("test_bi[n=1]", "test_bi[n=2]")


@pytest.fixture()
def params(db_session: Session):  # type: ignore[no-untyped-def]
    """proj: ``test_bi`` at n=1 and n=2, one value per commit (pedantic(rounds=1) style)."""
    project = make_project(db_session, "proj")
    series = make_history(db_session, project, {"a": [1.0, 1.6], "b": [2.0, 3.1]})
    for key, n in (("a", "1"), ("b", "2")):
        bench = db_session.get(Benchmark, series[key].benchmark_id)
        bench.name, bench.params, bench.params_key = "test_bi", {"n": n}, f'{{"n": "{n}"}}'
    db_session.commit()
    alert = make_alert(db_session, series["a"], 2, before=1.0, after=1.6)
    summary = db_session.get(AlertSummary, alert.summary_id)
    make_alert(db_session, series["b"], 2, before=2.0, after=3.1, summary=summary)
    return project, series, alert


def test_label_joins_name_and_params() -> None:
    assert benchmark_label("test_x", {"size": "big", "n": 1}) == "test_x[n=1, size=big]"
    assert benchmark_label("test_x", {}) == "test_x"
    assert benchmark_label("test_x", {"n": 1}, "renamed") == "renamed[n=1]"
    assert benchmark_label("test_x[n=1]", {"n": 1}) == "test_x[n=1]"


def test_pages_name_params(client, params, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    alerts = client.get("/p/proj/alerts").get_data(as_text=True)
    run_id = _run_of(db_session, params[1]["a"].id)
    run = client.get(f"/p/proj/runs/{run_id}").get_data(as_text=True)
    compare = client.get(f"/p/proj/compare?baseline={sha(1)}&candidate={sha(2)}")
    for page in (alerts, run, compare.get_data(as_text=True)):
        assert all(label in page for label in LABELS), page


def _run_of(session: Session, series_id: int) -> int:
    return int(session.scalar(select(Result.run_id).where(Result.series_id == series_id)))


def test_notifications_and_pr_comment_name_params(params, db_session: Session) -> None:
    _, _, alert = params
    summary = db_session.get(AlertSummary, alert.summary_id)
    payload = summary_payload(db_session, summary, "http://bw.test")
    assert sorted(a["benchmark"] for a in payload["alerts"]) == list(LABELS)
    comparison = compare_commits(db_session, params[0].id, sha(1), sha(2))
    mc = MachineComparison(Baseline("box1", sha(1), sha(1), None), sha(2), comparison)
    rows = [_report_row(r, mc, 0.05, False, "http://bw.test/c?x=1") for r in comparison.rows]
    assert sorted(r.name for r in rows) == list(LABELS)
    comment = render_comment(_report(rows=tuple(rows), missing=(), added=()))
    assert all(escape(label) in comment for label in LABELS)  # markdown-escaped, params kept
    # one value per side: the comment says why and what to change
    assert "Why inconclusive:" in comment and "2 × one sample per process" in comment
    assert "more rounds per process" in comment


def _comparison(verdict: Verdict = Verdict.INCONCLUSIVE, mde: float = 0.3) -> Comparison:
    return Comparison(-0.64, -0.75, -0.19, 0.1, 0.2, "decrease", verdict, mde, 1.0, 0.36, "m-w")


def test_each_reason_of_an_inconclusive_comparison() -> None:
    th = Thresholds()
    single = explain(_comparison(mde=math.nan), "single", Evidence(1, 1, True), th)
    assert single is not None and single.reason == "one_sample_per_process"
    assert "rounds" in single.advice and "instruction counts" in single.advice
    # 3 processes of one sample each: the rank test's best p is 0.1, never significant
    few_single = explain(_comparison(), "samples", Evidence(3, 3, True), th)
    assert few_single is not None and few_single.reason == "one_sample_per_process"
    few = explain(_comparison(), "samples", Evidence(3, 3, False), th)
    assert few is not None and few.reason == "too_few_processes"
    assert "more processes" in few.advice and "3 against 3" in few.message
    noisy = explain(_comparison(mde=0.3), "samples", Evidence(20, 20, False), th)
    assert noisy is not None and noisy.reason == "noise" and "30.0%" in noisy.message
    assert explain(_comparison(Verdict.REGRESSION), "samples", Evidence(20, 20, False)) is None


def test_compare_page_says_why(client, params) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/p/proj/compare?baseline={sha(1)}&candidate={sha(2)}").get_data(
        as_text=True
    )
    assert "2 inconclusive of 2 benchmarks measured on both sides" in " ".join(page.split())
    assert page.count('data-reason="one_sample_per_process"') == 3  # summary line + 2 rows
    assert "more rounds per process" in page


def test_render_groups_reasons() -> None:
    rows = (
        replace(_row("x", 0.03, Category.INCONCLUSIVE), why_reason="noise", why_advice="quiet"),
        replace(_row("y", 0.03, Category.INCONCLUSIVE), why_reason="noise", why_advice="quiet"),
    )
    comment = render_comment(_report(rows=rows))
    assert "- 2 × noise: quiet." in comment


def test_trend_page_flags_one_sample_per_process(client, params, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    one = client.get(f"/p/proj/benchmarks/{params[1]['a'].benchmark_id}").get_data(as_text=True)
    assert 'id="one-sample"' in one
    project = make_project(db_session, "many")
    series = make_history(db_session, project, {"m": [1.0, 1.0]}, stddev=0.01, samples=5)["m"]
    many = client.get(f"/p/many/benchmarks/{series.benchmark_id}").get_data(as_text=True)
    assert 'id="one-sample"' not in many
