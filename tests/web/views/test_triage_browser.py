"""Overview, alerts, an alert's page and compare in headless Chromium: what readers see (issue 16).

The seed is the review's situation: five alert summaries for one real
regression and one improvement (two summaries bisected to the same culprit,
one alert not reproduced, one no longer detected), a pull request, a release
run and a run on a noisy machine. Screenshots at 1300 px and on a 390 px
phone go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import LiveServer
from tests.factories import make_alert, make_history, make_project, sha
from tests.web.views.test_browser import CHROMIUM, launch_chromium, shot, sync_api
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade
from web.models import Branch, BranchCommit, Commit, Job, PrComment, Run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1300, "height": 900}
COMMITS = 60
NOISY = {"extra": {"preflight": {"problems": ["load average 3.50 on 2 CPUs", "turbo boost is on"]}}}


def _commit(session: Session, n: int) -> Commit:
    return session.scalars(select(Commit).where(Commit.sha == sha(n))).one()


def _step(at: int, size: float, base: float = 1e-3) -> list[float]:
    return [base * (1 + 0.01 * (i % 3)) * (size if i >= at - 1 else 1) for i in range(COMMITS)]


def _jobs(session: Session, project_id: int, alert_id: int) -> None:
    """The parse alert's confirmation and its bisection over commits 38..41."""
    confirm = Job(
        project_id=project_id,
        kind="confirm",
        commit_sha=sha(41),
        baseline_sha=sha(40),
        machine="box1",
        alert_id=alert_id,
        state="done",
        spec={"repeats": 10},
        progress={
            "alert_ids": [alert_id],
            "confirmation": {
                str(alert_id): {"verdict": "regression", "rel_change": 0.149, "pvalue": 0.0002}
            },
        },
    )
    bisect = Job(
        project_id=project_id,
        kind="bisect",
        commit_sha=sha(41),
        baseline_sha=sha(38),
        machine="box1",
        alert_id=alert_id,
        state="done",
        progress={
            "alert_ids": [alert_id],
            "commits": [sha(n) for n in range(38, 42)],
            "culprit": sha(41),
            "samples": {
                sha(38): [1e-3, 1.01e-3],
                sha(39): [1e-3, 1e-3],
                sha(40): [1.01e-3, 1e-3],
                sha(41): [1.15e-3, 1.16e-3],
            },
        },
    )
    session.add_all([confirm, bisect])
    session.flush()
    for commits in ([38, 39, 41], [39, 40, 41]):
        session.add(
            Job(
                project_id=project_id,
                kind="bisect",
                commit_sha=sha(commits[-1]),
                machine="box1",
                parent_job_id=bisect.id,
                state="done",
                spec={"commits": [sha(n) for n in commits], "repeats": 5},
            )
        )


def seed(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        project = make_project(session, "tri")
        project.repo_url = "https://forge.example/org/tri"
        series = make_history(
            session,
            project,
            {
                "parse": _step(41, 1.15),
                "render": _step(42, 1.12, 2e-3),
                "startup": _step(30, 0.8, 5e-2),
                "io": _step(20, 1.0, 3e-4),
            },
            samples=5,
        )
        for n in range(2, COMMITS + 1):
            _commit(session, n).parents = [sha(n - 1)]
        culprit = _commit(session, 41)
        culprit.message = "Parse with the new tokenizer\n\nIt allocates per token."
        culprit.author = "Grace Hopper <grace@example.org>"
        parse = make_alert(session, series["parse"], 41, before=1.01e-3, after=1.16e-3)
        render = make_alert(session, series["render"], 42, before=2.02e-3, after=2.26e-3)
        for alert in (parse, render):
            alert.culprit_commit_id, alert.confirmation = culprit.id, "confirmed"
        make_alert(session, series["startup"], 30, before=5.05e-2, after=4.04e-2)
        gone = make_alert(session, series["io"], 20, before=3e-4, after=3.06e-4)
        gone.confirmation = "not_reproduced"
        stale = make_alert(session, series["io"], 50, before=3e-4, after=3.1e-4)
        stale.active = False
        series["io"].unstable, series["io"].noise = True, 0.09
        _jobs(session, project.id, parse.id)
        run_41 = session.scalars(select(Run).where(Run.commit_id == culprit.id)).one()
        run_41.pr_number = 12
        session.add(PrComment(project_id=project.id, pr_number=12, github_comment_id=4242))
        tag = Branch(project_id=project.id, name="v2.1.0")
        session.add(tag)
        session.flush()
        session.add(BranchCommit(branch_id=tag.id, commit_id=_commit(session, 25).id, position=1))
        last = session.scalars(select(Run).where(Run.commit_id == _commit(session, 60).id)).one()
        last.machine_snapshot = {"name": "box1", **NOISY}
        session.commit()
        ids = {"parse": parse.id, "render": render.id, "summary": parse.summary_id}
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory) -> Iterator[tuple[LiveServer, dict[str, int]]]:  # type: ignore[no-untyped-def]
    if pg_server is None:
        pytest.skip("browser tests start their own PostgreSQL database")
    url = pg_server.create_database("bw_triage_browser")
    upgrade(url)
    ids = seed(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path_factory.mktemp("triage"),
        database_url=url,
        secret_key="browser-test",
    )
    with LiveServer(settings) as server:
        yield server, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def _tab(browser, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    return context, tab


@pytest.fixture()
def page(browser):  # type: ignore[no-untyped-def]
    context, tab = _tab(browser, DESKTOP)
    yield tab
    context.close()


@pytest.fixture()
def phone(browser):  # type: ignore[no-untyped-def]
    context, tab = _tab(browser, PHONE)
    yield tab
    context.close()


def no_sideways_scroll(tab) -> bool:  # type: ignore[no-untyped-def]
    return bool(tab.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_overview_reads_at_a_glance(page, phone, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(server.url + "/p/tri/")
    rows = page.locator("#regressions tbody tr")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-alert") for i in range(2)] == [
        str(ids["parse"]),  # +14.9% before +11.9%
        str(ids["render"]),
    ]
    assert page.locator("#regressions svg.spark").count() == 2
    assert page.locator("#regressions svg.spark line.mark").count() == 2
    assert "2 open regressions" in page.locator(".headline").inner_text()
    assert page.locator("#noisy tbody tr").count() == 1
    assert page.locator("#machines [data-run]").count() == 5
    assert page.locator("#machines .badge", has_text="noisy machine").count() == 1
    shot(page, "overview-desktop")
    phone.goto(server.url + "/p/tri/")
    assert no_sideways_scroll(phone)
    shot(phone, "overview-phone")
    assert page.problems == [] and phone.problems == []


def test_alerts_merge_by_culprit_and_fold_closed_ones(page, phone, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(server.url + "/p/tri/alerts")
    cards = page.locator("section.summary-card[data-group]")
    assert cards.count() == 2  # five summaries: one regression, one improvement
    merged = page.locator(f"#summary-{ids['summary']}")
    assert merged.get_attribute("data-summaries").count(" ") == 1  # two summaries in one card
    text = merged.inner_text()
    assert "2 alerts: 2 regressions" in text and "2 summaries merged" in text
    assert "Parse with the new tokenizer" in text and "Grace Hopper" in text
    assert merged.locator("svg.spark").count() == 2
    closed = page.locator("details.closed-section")
    assert closed.get_attribute("open") is None  # folded
    assert page.locator("#closed-alerts tbody tr").first.is_hidden()
    closed.locator("summary").click()
    assert page.locator("#closed-alerts tbody tr").count() == 2
    reasons = page.locator("#closed-alerts").inner_text()
    assert "Not reproduced" in reasons and "No longer detected" in reasons
    stamp = merged.locator("time").first
    assert stamp.get_attribute("title", timeout=5000).endswith("UTC")  # rewritten by common.js
    assert re.search(r"(UTC|GMT|[A-Z]{3,4})$", stamp.inner_text()), stamp.inner_text()
    body = page.locator("main").inner_text()
    assert "untriaged" not in body and "1 alerts" not in body and "not_reproduced" not in body
    shot(page, "alerts-desktop")
    phone.goto(server.url + "/p/tri/alerts")
    phone.locator("details.closed-section summary").click()
    shot(phone, "alerts-phone")
    assert page.problems == [] and phone.problems == []


def test_alert_page_zooms_names_the_culprit_and_links_on(page, phone, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(server.url + "/p/tri/alerts")
    page.locator(f"tr[data-alert='{ids['parse']}'] a", has_text="Details").click()
    page.wait_for_url(f"**/p/tri/alert/{ids['parse']}")
    zoom = page.locator("svg.zoom")
    assert zoom.locator("circle.dot").count() == int(zoom.get_attribute("data-dots") or 0) == 60
    assert zoom.locator("circle.dot.changed").count() == 20
    band = zoom.locator("rect.band").bounding_box()
    first_changed = zoom.locator("circle.dot.changed").first.bounding_box()
    assert band["x"] < first_changed["x"] + 4 <= band["x"] + band["width"] + 8
    assert "Parse with the new tokenizer" in page.locator("#culprit-h + dl").inner_text()
    assert page.locator("[data-confirmation]").count() == 1
    assert page.locator("[data-step]").count() == 2
    assert page.locator("table.bisect tr.marked").count() == 1
    pr = page.locator("a[data-pr]")
    assert pr.get_attribute("href") == "https://forge.example/org/tri/pull/12#issuecomment-4242"
    shot(page, "alert-detail-desktop")
    phone.goto(f"{server.url}/p/tri/alert/{ids['parse']}")
    assert no_sideways_scroll(phone)
    shot(phone, "alert-detail-phone")
    page.locator("a[data-compare]").click()
    page.wait_for_url("**/p/tri/compare?**")
    assert page.locator("input[name=baseline]").input_value() == sha(40)
    assert page.locator("input[name=candidate]").input_value() == sha(41)
    assert page.problems == [] and phone.problems == []


def test_compare_picker_defaults_chart_and_warnings(page, phone, site) -> None:  # type: ignore[no-untyped-def]
    server, _ = site
    page.goto(server.url + "/p/tri/compare")
    assert page.locator("input[name=baseline]").input_value() == sha(59)  # the parent
    assert page.locator("input[name=candidate]").input_value() == sha(60)  # latest on main
    picks = {
        p.get_attribute("data-pick"): p.get_attribute("data-sha")
        for p in page.locator("[data-pick]").all()
    }
    assert picks == {"parent": sha(59), "latest": sha(60), "release": sha(25)}
    assert page.locator("[data-side]").count() == 2
    assert "commit 59" in page.locator("[data-side=baseline]").inner_text()
    warning = page.locator("[data-warning=noisy]")
    assert warning.count() == 1 and "load average 3.50 on 2 CPUs" in warning.inner_text()
    page.locator("[data-pick=release]").click()
    page.wait_for_url(f"**baseline={sha(25)}**")
    bars = page.locator("svg.ratio g.bar")
    # the candidate ran on a noisy machine: its times are left out unless asked for
    left_out = page.locator("[data-warning=noisy_left_out]")
    assert left_out.count() == 1 and bars.count() == 0
    left_out.locator("a").click()
    page.wait_for_url("**noisy=1**")
    assert page.locator("[data-warning=noisy_included]").count() == 1
    assert bars.count() == page.locator("table.compare tbody tr").count() == 4
    verdicts = [bars.nth(i).get_attribute("data-verdict") for i in range(bars.count())]
    assert verdicts[:2] == ["regression", "regression"] and "improvement" in verdicts
    rect = bars.first.locator("rect").bounding_box()
    centre = page.locator("svg.ratio line.centre").bounding_box()
    assert rect["x"] >= centre["x"] - 1  # slower: the bar grows to the right of "no change"
    shot(page, "compare-desktop")
    phone.goto(f"{server.url}/p/tri/compare?baseline={sha(25)}&candidate={sha(60)}&noisy=1")
    assert no_sideways_scroll(phone)
    shot(phone, "compare-phone")
    assert page.problems == [] and phone.problems == []


def test_projects_page_shows_the_repository_url(page, site) -> None:  # type: ignore[no-untyped-def]
    server, _ = site
    page.goto(server.url + "/")
    link = page.get_by_role("link", name="forge.example/org/tri")
    assert link.get_attribute("href") == "https://forge.example/org/tri"
    shot(page, "projects-desktop")
    page.get_by_role("link", name="tri", exact=True).click()
    page.wait_for_url("**/p/tri/")
    assert page.locator("#regressions").count() == 1
