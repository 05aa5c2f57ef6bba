"""The compare page: a picker with defaults, both commits described, warnings (issue 16, item 4)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_history, sha
from web.models import Benchmark, Branch, BranchCommit, Commit, Result, Run, Series


def _commit(session: Session, n: int) -> Commit:
    found = session.scalar(select(Commit).where(Commit.sha == sha(n)))
    assert found is not None
    return found


def _run(session: Session, n: int) -> Run:
    found = session.scalar(select(Run).where(Run.commit_id == _commit(session, n).id))
    assert found is not None
    return found


@pytest.fixture()
def picker(history, db_session: Session):  # type: ignore[no-untyped-def]
    """Parents along main, a pull request branched at 30, a release tag's run at 10."""
    project = history["project"]
    for n in range(2, 41):
        _commit(db_session, n).parents = [sha(n - 1)]
    make_history(
        db_session,
        project,
        {"fast": [1.3e-3, 1.3e-3], "slow": [2.0, 2.0]},
        branch="feature",
        first_commit=100,
        stddev=1e-5,
        samples=5,
    )
    _commit(db_session, 100).parents = [sha(30)]
    _commit(db_session, 101).parents = [sha(100)]
    for n in (100, 101):
        _run(db_session, n).pr_number = 5
    tag = Branch(project_id=project.id, name="v1.0.0")
    db_session.add(tag)
    db_session.flush()
    db_session.add(BranchCommit(branch_id=tag.id, commit_id=_commit(db_session, 10).id, position=1))
    db_session.commit()
    return project


def _page(client, url: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return str(response.get_data(as_text=True))


def _value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def test_empty_compare_defaults_to_latest_against_its_parent(client, picker) -> None:  # type: ignore[no-untyped-def]
    page = _page(client, "/p/proj/compare")
    assert (_value(page, "baseline"), _value(page, "candidate")) == (sha(39), sha(40))
    assert 'id="compare-summary"' in page  # compared at once, not an empty form


def test_picker_offers_parent_merge_base_latest_and_release(client, picker) -> None:  # type: ignore[no-untyped-def]
    page = _page(client, f"/p/proj/compare?candidate={sha(101)}")
    picks = dict(re.findall(r'data-pick="(\w+)"[^>]*data-sha="(\w+)"', page))
    assert picks == {
        "parent": sha(100),
        "merge_base": sha(30),
        "latest": sha(40),
        "release": sha(10),
    }
    assert "v1.0.0" in page
    # a pull request's candidate is compared with its merge-base by default
    assert _value(page, "baseline") == sha(30)
    assert f'<option value="{sha(40)}"' in page  # every recent commit is on offer


def test_both_commit_messages_are_shown(client, picker) -> None:  # type: ignore[no-untyped-def]
    page = _page(client, f"/p/proj/compare?baseline={sha(1)}&candidate={sha(30)}")
    sides = re.findall(r'<section class="side"[^>]*data-side="(\w+)".*?</section>', page, re.S)
    assert sides == ["baseline", "candidate"]
    assert "commit 1" in page and "commit 30" in page and "Ada" in page


def test_benchmarks_on_one_side_only_are_counted(client, picker, db_session) -> None:  # type: ignore[no-untyped-def]
    fast = history_result(db_session, 30)
    extra = Benchmark(project_id=fast.benchmark.project_id, suite="suite", name="extra")
    db_session.add(extra)
    db_session.flush()
    # A result names its series' benchmark: "extra" needs a series of its own.
    beside = db_session.get(Series, fast.series_id)
    assert beside is not None
    series = Series(
        project_id=beside.project_id,
        benchmark_id=extra.id,
        measure_id=beside.measure_id,
        machine_id=beside.machine_id,
        branch_id=beside.branch_id,
    )
    db_session.add(series)
    db_session.flush()
    db_session.add(
        Result(
            run_id=fast.run_id,
            series_id=series.id,
            benchmark_id=extra.id,
            measure_id=fast.measure_id,
            commit_id=fast.commit_id,
            position=fast.position,
            value=1.0,
        )
    )
    db_session.commit()
    page = _page(client, f"/p/proj/compare?baseline={sha(1)}&candidate={sha(30)}")
    assert 'data-only-candidate="1"' in page and 'data-only-baseline="0"' in page
    assert "1 benchmark only in the candidate" in page


def history_result(db_session: Session, n: int):  # type: ignore[no-untyped-def]
    result = db_session.scalar(
        select(Result).where(Result.commit_id == _commit(db_session, n).id).limit(1)
    )
    assert result is not None
    result.benchmark = db_session.get(Benchmark, result.benchmark_id)
    return result


def test_ratio_chart_is_sorted_by_impact(client, picker) -> None:  # type: ignore[no-untyped-def]
    page = _page(client, f"/p/proj/compare?baseline={sha(1)}&candidate={sha(30)}")
    bars = re.findall(r'<g class="bar" data-verdict="(\w+)" data-ratio="([\d.]+)"', page)
    assert len(bars) == 3
    assert bars[0][0] == "regression" and abs(float(bars[0][1]) - 1.2) < 0.01


def test_warns_of_a_noisy_machine_and_of_few_samples(client, picker, db_session) -> None:  # type: ignore[no-untyped-def]
    run = _run(db_session, 30)
    run.machine_snapshot = {"extra": {"preflight": {"problems": ["load average 3.10 on 2 CPUs"]}}}
    for result in db_session.scalars(select(Result).where(Result.run_id == _run(db_session, 1).id)):
        result.samples, result.sample_count, result.stddev = None, None, None
    db_session.commit()
    page = _page(client, f"/p/proj/compare?baseline={sha(1)}&candidate={sha(30)}")
    warnings = re.findall(r'<li data-warning="(\w+)"[^>]*>(.*?)</li>', page, re.S)
    kinds = {k for k, _ in warnings}
    assert kinds == {"noisy", "few_samples"}
    text = " ".join(t for _, t in warnings)
    assert "candidate" in text and "load average 3.10 on 2 CPUs" in text
    assert "baseline" in text and "1 sample" in text


def test_unknown_commit_and_bad_run_ids_are_4xx(client, picker) -> None:  # type: ignore[no-untyped-def]
    page = _page(client, f"/p/proj/compare?baseline={sha(1)}&candidate={'f' * 40}", 404)
    assert "no runs of commit" in page
    page = _page(client, "/p/proj/compare?kind=runs&baseline=x&candidate=1", 400)
    assert "whole numbers" in page
    _page(client, "/p/proj/compare?kind=runs&baseline=999999999&candidate=1", 404)


def test_two_runs_are_described_like_two_commits(client, picker, db_session) -> None:  # type: ignore[no-untyped-def]
    base, cand = _run(db_session, 1).id, _run(db_session, 30).id
    page = _page(client, f"/p/proj/compare?kind=runs&baseline={base}&candidate={cand}")
    assert re.findall(r'data-side="(\w+)"', page) == ["baseline", "candidate"]
    assert "commit 1" in page and "commit 30" in page
    assert "data-pick=" not in page  # the picker offers commits, not runs
