"""Trend, run and machines pages in headless Chromium: what a reader sees (issue 16).

The plot's state is read back from uPlot (``card._plot``) and from the data-*
attributes trend.js sets; pixels are checked where a mark must be drawn.
Screenshots at 1300 px and on a 390 px phone go to ``test-artifacts/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import LiveServer
from tests.factories import make_alert, make_history, make_project, sha
from tests.web.reruns import add_job_run
from tests.web.views.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    launch_chromium,
    shot,
    sync_api,
    wait_for_plots,
)
from tests.web.views.test_trend_page import NOISY
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade
from web.models import Commit, Run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
COMMITS = 60
STEP = 41  # first changed commit: index 40
OUTLIER, NOISY_COMMIT = 21, 51  # indices 20 and 50
RAMP = (21, 45)  # benchmark "creep" ramps 6 % from commit 21 to commit 45 (indices 20-44)
LOG = "\n".join(
    [f"step {i}: building wheel for package-{i} " + "x" * 180 for i in range(40)]
    + ["ERROR: benchmark bench_sort timed out after 600 s", "done"]
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1300, "height": 900}


def seed(url: str) -> dict[str, int]:
    """60 commits of a 1 ms benchmark with a 15 % step, an outlier, a noisy run and a re-run."""
    engine = make_engine(url)
    with Session(engine) as session:
        project = make_project(session, "tr")
        project.repo_url = "https://forge.example/org/tr"
        values = [1e-3 * (1 + 0.01 * (i % 3)) * (1.15 if i >= STEP - 1 else 1) for i in range(60)]
        values[OUTLIER - 1] = 2.37e-3
        values[NOISY_COMMIT - 1] = 1.4e-3
        # stddev 0.6 ms: ±stddev went below zero; samples give the real quartiles
        creep = [1e-3 * (1 + 0.06 * min(max(i - 20, 0), 24) / 24) for i in range(60)]
        made = make_history(
            session, project, {"step": values, "creep": creep}, stddev=6e-4, samples=5
        )
        series = made["step"]
        make_alert(session, series, STEP, before=1.01e-3, after=1.162e-3)
        drift = make_alert(session, made["creep"], RAMP[0], before=1e-3, after=1.06e-3)
        end = session.scalars(select(Commit).where(Commit.sha == sha(RAMP[1]))).one()
        drift.kind, drift.end_commit_id = "drift", end.id
        add_job_run(session, series, 45, 1.2e-3)
        # one run a day from 1 December, so the machines page has weeks of history
        for run in session.scalars(select(Run).order_by(Run.id)):
            run.created_at = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=run.id)
        noisy = session.scalars(
            select(Run)
            .join(Commit, Commit.id == Run.commit_id)
            .where(Commit.sha == sha(NOISY_COMMIT))
        ).one()
        noisy.machine_snapshot = {
            "name": "box1",
            "cpu_model": "TestCPU",
            "cores": 4,
            "memory_bytes": 16 * 2**30,
            **NOISY,
        }
        noisy.log = LOG
        noisy.started_at = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
        noisy.finished_at = noisy.started_at + timedelta(seconds=754)
        for commit in session.scalars(select(Commit)):  # shas that differ in their first digits
            commit.sha = hashlib.sha1(commit.sha.encode()).hexdigest()
        session.commit()
        ids = {
            "bench": series.benchmark_id,
            "series": series.id,
            "noisy_run": noisy.id,
            "creep": made["creep"].benchmark_id,
        }
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory) -> Iterator[tuple[LiveServer, dict[str, int]]]:  # type: ignore[no-untyped-def]
    if pg_server is None:
        pytest.skip("browser tests start their own PostgreSQL database")
    url = pg_server.create_database("bw_trend_browser")
    upgrade(url)
    ids = seed(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path_factory.mktemp("trend"),
        database_url=url,
        secret_key="browser-test",
    )
    with LiveServer(settings) as server:
        yield server, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def open_page(browser, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    return context, tab


@pytest.fixture()
def page(browser):  # type: ignore[no-untyped-def]
    context, tab = open_page(browser, DESKTOP)
    yield tab
    context.close()


@pytest.fixture()
def phone(browser):  # type: ignore[no-untyped-def]
    context, tab = open_page(browser, PHONE)
    yield tab
    context.close()


PLOT_STATE = """() => {
  const card = document.querySelector('[data-plot-url]'), u = card._plot, d = card._data;
  const k = card._k, lo = u.data[2].filter(v => v != null);
  return {
    xs: new Set(d.points.i).size, lo: Math.min(...lo), yMax: u.scales.y.max * k,
    yMin: u.scales.y.min * k, labels: card._xLabels, lines: card._changeLines,
    hollow: card._hollow, mode: card._xMode, x: Array.from(u.data[0]),
  };
}"""


def pixel(page, x: float, y: float) -> list[int]:  # type: ignore[no-untyped-def]
    """The plot canvas's colour at CSS pixel (x, y) inside the plotting area."""
    return page.evaluate(
        """([x, y]) => {
      const u = document.querySelector('[data-plot-url]')._plot, r = devicePixelRatio;
      const px = u.ctx.getImageData(
        Math.round(x * r + u.bbox.left), Math.round(y * r + u.bbox.top), 1, 1).data;
      return [px[0], px[1], px[2]];
    }""",
        [x, y],
    )


def trend(page, site) -> dict:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(f"{server.url}/p/tr/benchmarks/{ids['bench']}")
    wait_for_plots(page)
    return page.evaluate(PLOT_STATE)


def test_one_x_per_commit_labelled_with_sha_and_date(page, site) -> None:  # type: ignore[no-untyped-def]
    state = trend(page, site)
    assert state["xs"] == COMMITS
    assert page.locator(".plot").first.get_attribute("data-x-positions") == str(COMMITS)
    assert state["labels"], "the x axis has labels"
    assert len(set(state["labels"])) == len(state["labels"])
    for label in state["labels"]:
        short, date = label.split("\n")
        assert len(short) == 7 and int(short, 16) >= 0, label
        assert date.startswith("Jan "), label  # commits are 1-2 January 2026
    assert page.problems == []


def test_change_point_is_a_line_at_the_culprit_with_levels(page, site) -> None:  # type: ignore[no-untyped-def]
    state = trend(page, site)
    (line,) = state["lines"]
    culprit_x = page.evaluate(
        "() => { const u = document.querySelector('[data-plot-url]')._plot;"
        f" return u.valToPos({STEP - 1}, 'x'); }}"
    )
    assert line["i"] == STEP - 1 and abs(line["x"] - culprit_x) < 0.5
    assert line["label"] == "+15.0%"
    assert line["before"] == pytest.approx(1.01e-3) and line["after"] == pytest.approx(1.162e-3)
    top = pixel(page, line["x"], 4)  # the vertical line runs the plot's full height
    assert top[0] > 150 and top[1] < 110, top  # red: a regression
    assert page.locator(".plot").first.get_attribute("data-change-points") == "1"


def test_a_drift_is_a_shaded_range_not_a_line(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(f"{server.url}/p/tr/benchmarks/{ids['creep']}")
    wait_for_plots(page)
    plot = page.locator(".plot").first
    assert plot.get_attribute("data-drifts") == "1"
    assert plot.get_attribute("data-change-points") == "0"  # no step line inside the ramp
    ranges, xs = page.evaluate(
        "() => { const c = document.querySelector('[data-plot-url]'), u = c._plot;"
        f" return [c._driftRanges, [u.valToPos({RAMP[0] - 1}, 'x'), u.valToPos({RAMP[1] - 1}, 'x'),"
        f" u.valToPos({RAMP[1] + 5}, 'x')]]; }}"
    )
    (shaded,) = ranges
    assert shaded["i"] == RAMP[0] - 1 and shaded["end"] == RAMP[1] - 1
    assert abs(shaded["x0"] - xs[0]) < 0.5 and abs(shaded["x1"] - xs[1]) < 0.5
    assert shaded["label"] == "drift +6.0%"
    inside, outside = pixel(page, (xs[0] + xs[1]) / 2, 40), pixel(page, xs[2], 40)
    assert inside[0] > inside[1] + 10, inside  # tinted red: a regression
    assert outside[0] <= outside[1], outside  # not tinted after the ramp
    shot(page, "trend-drift")
    assert page.problems == []


def test_band_never_below_zero_and_outliers_out_of_range(page, site) -> None:  # type: ignore[no-untyped-def]
    state = trend(page, site)
    assert state["lo"] >= 0
    assert state["yMax"] < 1.4e-3, "neither the outlier nor the noisy run stretches the y axis"
    assert state["yMin"] > 0.5e-3
    assert sorted(h["i"] for h in state["hollow"]) == [OUTLIER - 1, NOISY_COMMIT - 1]
    assert {h["why"] for h in state["hollow"]} == {"outlier", "noisy machine"}
    assert all(h["clamped"] for h in state["hollow"])  # drawn at the edge, hollow


def test_time_toggle_puts_commits_at_their_dates(page, site) -> None:  # type: ignore[no-untyped-def]
    trend(page, site)
    page.click("[data-x-mode='time']")
    page.wait_for_selector(".plot[data-x-axis='time']")
    state = page.evaluate(PLOT_STATE)
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert state["x"][0] == start + 3600 and state["x"][-1] == start + COMMITS * 3600
    assert state["lines"][0]["i"] == STEP - 1
    assert page.locator("[data-x-mode='time']").get_attribute("aria-pressed") == "true"
    page.locator(".plot-card").first.screenshot(path=str(ARTIFACTS / "trend-time-desktop.png"))
    # a drag in time mode asks for the commits under it, by index
    box = page.locator(".u-over").first.bounding_box()
    with page.expect_response(lambda r: "&start=" in r.url) as answer:
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 60, steps=5)
        page.mouse.up()
    start, end = (int(answer.value.url.split(k + "=")[1].split("&")[0]) for k in ("start", "end"))
    assert 8 <= start <= 14 and 34 <= end <= 40, (start, end)  # 20 % and 60 % of 60 commits
    page.wait_for_selector(".plot:not([data-points='60'])")
    page.click("[data-x-mode='commits']")
    page.wait_for_selector(".plot[data-x-axis='commits']")
    assert page.evaluate(PLOT_STATE)["x"][:3] == [start, start + 1, start + 2]  # zoom kept
    page.click("[data-range='all']")
    page.wait_for_selector(".plot[data-points='60']")
    shot(page, "trend-desktop")
    assert page.problems == []


def test_phone_has_no_horizontal_scroll_and_the_whole_x_label(phone, site) -> None:  # type: ignore[no-untyped-def]
    trend(phone, site)
    widths = phone.evaluate(
        "() => ({ page: document.documentElement.scrollWidth, view: innerWidth,"
        " plot: document.querySelector('.plot canvas').getBoundingClientRect().right,"
        " axis: document.querySelector('[data-plot-url]')._plot.axes[0]._size })"
    )
    shot(phone, "trend-phone")
    phone.locator(".plot").first.screenshot(path=str(ARTIFACTS / "trend-phone-plot.png"))
    wide = phone.evaluate(
        "() => Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
        ".filter(e => !e.closest('.table-scroll'))"
        ".map(e => e.tagName + '.' + e.className + ':' + e.getBoundingClientRect().right)"
    )
    assert widths["page"] <= widths["view"], (widths, wide)
    assert widths["plot"] <= widths["view"], widths
    assert widths["axis"] >= 50, widths  # two-line tick labels and the axis title fit
    assert phone.problems == []


def no_sideways_scroll(tab) -> None:  # type: ignore[no-untyped-def]
    widths = tab.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], widths


def test_run_page_checklist_and_log_filter(page, phone, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    url = f"{server.url}/p/tr/runs/{ids['noisy_run']}"
    page.goto(url)
    assert page.locator("#run-noisy").inner_text() == "noisy"
    failed = page.locator("ul.checklist li.failed")
    assert failed.count() == 2 and "Load average" in failed.first.inner_text()
    color = failed.first.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert color.startswith("rgb(198, 40, 40"), color  # --bad
    log = page.locator("#run-log")
    assert log.evaluate("e => e.scrollWidth <= e.clientWidth")  # wrapped, not cut off
    page.fill("#log-filter", "error")
    page.wait_for_selector("#run-log[data-shown='1']")
    assert log.inner_text().strip() == "ERROR: benchmark bench_sort timed out after 600 s"
    assert page.locator("#run-log mark").inner_text() == "ERROR"
    assert "1 of 42 lines" in page.locator("#log-count").inner_text()
    page.fill("#log-filter", "")
    page.wait_for_selector("#run-log[data-shown='42']")
    assert page.locator("#compare-parent").get_attribute("href").startswith("/p/tr/compare?")
    shot(page, "run-desktop")
    phone.goto(url)
    no_sideways_scroll(phone)
    shot(phone, "run-phone")
    assert page.problems == [] and phone.problems == []


def test_machines_page_history_and_noise(page, phone, site) -> None:  # type: ignore[no-untyped-def]
    server, _ = site
    page.goto(f"{server.url}/p/tr/machines")
    card = page.locator(".machine-card").first
    assert card.locator("table.runs tbody tr").count() == 30
    assert card.locator("table.runs tr.noisy").count() == 1
    assert card.locator("svg.spark polyline").count() == 1
    assert card.locator("table.changes tbody tr").count() >= 1  # the noisy run's new facts
    shot(page, "machines-desktop")
    phone.goto(f"{server.url}/p/tr/machines")
    no_sideways_scroll(phone)
    shot(phone, "machines-phone")
    assert page.problems == [] and phone.problems == []
