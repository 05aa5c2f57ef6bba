"""The dashboard in headless Chromium (Debian's), over a live server on PostgreSQL.

Screenshots of the trend, compare and alerts pages go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.conftest import REPO, LiveServer
from tests.factories import grant_role, make_alert, make_history, make_project, make_user, sha
from tests.web.reruns import add_job_run
from tests.web.views.conftest import XSS
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade
from web.models import Commit

CHROMIUM = os.environ.get("BENCHWARDEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
EVIL_MESSAGE = "fix <b>it</b> <img src=x onerror=alert(2)>"
# Six confirmation runs of two commits of ``fast``: still 300 x positions.
RERUNS = [(100, 1.05e-3), (100, 1.1e-3), (100, 0.95e-3), (101, 1.02e-3), (101, 1e-3), (101, 1e-3)]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Debian's Chromium, never a downloaded browser."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def seed(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        project = make_project(session, "proj")
        project.repo_url = "https://forge.example/org/proj"
        steps = [1e-3 * (1 + 0.02 * ((i * 7) % 5) / 5) for i in range(300)]
        fast = [v * (1.25 if i >= 200 else 1.0) for i, v in enumerate(steps)]
        series = make_history(
            session,
            project,
            {"fast": fast, "slow": [2.0] * 300, XSS: [5e-6] * 300},
            stddev=2e-5,
            samples=5,
        )
        alert = make_alert(session, series["fast"], 201, before=1e-3, after=1.25e-3)
        make_alert(session, series[XSS], 150, before=5e-6, after=4e-6)
        for commit, value in RERUNS:  # confirmation runs: samples of their commit's point
            add_job_run(session, series["fast"], commit, value)
        commit = session.scalar(select(Commit).where(Commit.sha == sha(150)))
        commit.message = EVIL_MESSAGE
        make_user(session)
        grant_role(session, "maintainer", "proj", "maintainer")
        ids = {
            "fast": series["fast"].benchmark_id,
            "xss": series[XSS].benchmark_id,
            "summary": alert.summary_id,
        }
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory) -> Iterator[tuple[LiveServer, dict[str, int]]]:  # type: ignore[no-untyped-def]
    if pg_server is None:
        pytest.skip("browser tests start their own PostgreSQL database")
    from web.views.vendor import MISSING, plot_library_installed

    assert plot_library_installed(), MISSING
    url = pg_server.create_database("bw_dash_browser")
    upgrade(url)
    ids = seed(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path_factory.mktemp("dash"),
        database_url=url,
        secret_key="browser-test",
    )
    with LiveServer(settings) as server:
        yield server, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, site):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.dialogs = []

    def dismiss(dialog):  # type: ignore[no-untyped-def]
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", dismiss)
    yield tab
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_for_plots(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("body[data-plots-ready='true']", timeout=15000)


def test_every_page_loads_without_console_errors(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    urls = [
        "/",
        "/p/proj/",
        "/p/proj/benchmarks",
        f"/p/proj/benchmarks/{ids['fast']}",
        "/p/proj/alerts",
        f"/p/proj/compare?baseline={sha(1)}&candidate={sha(250)}",
        "/p/proj/machines",
        "/p/proj/runs/1",
        "/login",
    ]
    for path in urls:
        response = page.goto(server.url + path)
        assert response.status == 200, path
        if "/benchmarks/" in path:
            wait_for_plots(page)
        assert page.problems == [], (path, page.problems)


MARKER = """() => {
  const card = document.querySelector('[data-plot-url]'), u = card._plot, d = card._data;
  const n = d.points.i.indexOf(d.alerts[0].i), box = u.over.getBoundingClientRect();
  const x = u.valToPos(u.data[0][n], 'x'), y = u.valToPos(u.data[3][n], 'y');
  const ctx = u.ctx, px = ctx.getImageData(
    Math.round((x + u.bbox.left / devicePixelRatio) * devicePixelRatio),
    Math.round((y + u.bbox.top / devicePixelRatio) * devicePixelRatio), 1, 1).data;
  return { x: box.left + x, y: box.top + y, rgb: [px[0], px[1], px[2]] };
}"""


def test_plot_draws_points_change_points_and_hover(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(f"{server.url}/p/proj/benchmarks/{ids['fast']}")
    wait_for_plots(page)
    plot = page.locator(".plot").first
    assert plot.get_attribute("data-points") == "300"
    assert plot.get_attribute("data-alerts") == "1"
    assert plot.get_attribute("data-y-label") == "time (ms)"  # seconds shown in the right unit
    mark = page.evaluate(MARKER)
    assert mark["rgb"][0] > 150 and mark["rgb"][1] < 100, mark  # the red regression triangle
    page.click("[data-log]")
    assert plot.get_attribute("data-scale") == "log"
    assert page.locator("[data-log]").get_attribute("aria-pressed") == "true"
    page.click("[data-log]")
    assert plot.get_attribute("data-scale") == "linear"
    mark = page.evaluate(MARKER)
    page.mouse.move(mark["x"], mark["y"])
    tip = page.locator(".plot-tip")
    tip.wait_for(state="visible")
    assert "regression +25.0%" in tip.inner_text() and "sha" not in tip.inner_text()
    shot(page, "trend")
    # Click the change point: the detail panel links the run and the commit.
    page.mouse.click(mark["x"], mark["y"])
    detail = page.locator(".point-detail")
    detail.wait_for(state="visible")
    assert "Open run" in detail.inner_text()
    assert page.locator(".point-detail a[href*='forge.example/org/proj/commit/']").count() == 1
    assert page.problems == []


def test_reruns_are_dots_at_their_commits_x(page, site) -> None:  # type: ignore[no-untyped-def]
    """300 commits and 6 confirmation runs: 300 x positions, the 8 runs of 2 commits as dots."""
    server, ids = site
    page.goto(f"{server.url}/p/proj/benchmarks/{ids['fast']}")
    wait_for_plots(page)
    plot = page.locator(".plot").first
    assert plot.get_attribute("data-points") == "300"
    assert plot.get_attribute("data-x-positions") == "300"
    assert plot.get_attribute("data-runs") == "306"
    assert plot.get_attribute("data-run-dots") == "8"
    assert page.problems == []


def test_zoom_fetches_full_resolution(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(f"{server.url}/p/proj/benchmarks/{ids['fast']}")
    wait_for_plots(page)
    with page.expect_response(lambda r: "points.json?max=1500&start=200&end=300" in r.url):
        page.click("[data-range='100']")
    # selector waits, not wait_for_function: the page's Content-Security-Policy forbids the
    # eval that Playwright's polling predicates use
    page.wait_for_selector(".plot[data-points='100']")
    assert page.locator("[data-range='100']").get_attribute("aria-pressed") == "true"
    box = page.locator(".u-over").first.bounding_box()
    with page.expect_response(lambda r: "&start=" in r.url and "end=" in r.url):
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 60, steps=5)
        page.mouse.up()
    page.wait_for_selector(".plot:not([data-points='100'])")
    assert int(page.locator(".plot").first.get_attribute("data-points") or "0") < 100
    assert page.locator("[data-range='100']").get_attribute("aria-pressed") == "false"


def test_keyboard_reaches_points_and_controls(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(f"{server.url}/p/proj/benchmarks/{ids['fast']}")
    wait_for_plots(page)
    page.locator(".plot").first.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    detail = page.locator(".point-detail")
    detail.wait_for(state="visible")
    assert "Open run" in detail.inner_text()
    page.locator("[data-range='100']").focus()
    with page.expect_response(lambda r: "start=200" in r.url):
        page.keyboard.press("Enter")


def test_trend_reads_without_javascript(browser, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{server.url}/p/proj/benchmarks/{ids['fast']}")
    table = tab.locator("table.points").first
    assert table.locator("tbody tr").count() == 20
    assert tab.locator(".plot-tools").first.is_hidden()  # no dead buttons without JS
    tab.get_by_role("link", name="All 300 points as a table").first.click()
    assert tab.locator("table.points tbody tr").count() == 100
    marked = tab.locator("table.points tr.marked")
    assert marked.count() == 1 and "regression +25.0% (untriaged)" in marked.inner_text()
    tab.get_by_role("link", name="Older →").click()
    assert "Page 2 of 3" in tab.locator(".pager").inner_text()
    context.close()


def test_hostile_names_and_messages_stay_text(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(server.url + "/p/proj/benchmarks")
    assert page.get_by_role("link", name=XSS).count() == 1
    page.goto(f"{server.url}/p/proj/benchmarks/{ids['xss']}")
    wait_for_plots(page)
    assert page.locator("h1").inner_text() == XSS
    # Hover the change point whose commit message holds markup.
    mark = page.evaluate(MARKER)
    page.mouse.move(mark["x"], mark["y"])
    page.locator(".plot-tip").wait_for(state="visible")
    assert "<img src=x" in (page.locator(".plot-tip").text_content() or "")
    assert page.locator("main img").count() == 0
    page.goto(server.url + "/p/proj/alerts")
    assert page.locator("img").count() == 0
    assert page.dialogs == [] and page.problems == []


def test_triage_persists_after_reload(page, site) -> None:  # type: ignore[no-untyped-def]
    server, ids = site
    page.goto(server.url + "/p/proj/alerts")
    page.get_by_role("link", name="Log in").first.click()
    page.fill("input[name=username]", "maintainer")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_url("**/p/proj/alerts**")
    card = page.locator(f"#summary-{ids['summary']}")
    card.locator("input[name=issue_url]").fill("https://bugs.example/42")
    card.locator("input[name=note]").fill("allocator change <script>alert(3)</script>")
    card.get_by_role("button", name="investigating").click()
    page.wait_for_load_state()
    page.reload()
    card = page.locator(f"#summary-{ids['summary']}")
    assert card.locator("[data-status]").inner_text() == "Investigating"
    assert card.locator("[data-issue]").get_attribute("href") == "https://bugs.example/42"
    assert "<script>" in card.locator("[data-note]").inner_text()
    engine = make_engine(server.settings.database_url)
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM alert_summary WHERE id = :id"), {"id": ids["summary"]}
        ).scalar_one()
        actors = conn.execute(text("SELECT actor FROM audit_entry")).scalars().all()
    engine.dispose()
    assert status == "investigating" and "maintainer" in actors
    shot(page, "alerts")
    assert page.dialogs == [] and page.problems == []


def test_compare_page_screenshot(page, site) -> None:  # type: ignore[no-untyped-def]
    server, _ = site
    page.goto(f"{server.url}/p/proj/compare?baseline={sha(1)}&candidate={sha(250)}")
    rows = page.locator("table.compare tbody tr")
    assert rows.count() == 3
    assert "Regression" in rows.first.inner_text()
    shot(page, "compare")


@pytest.mark.parametrize(("width", "name"), [(1300, "overview-desktop"), (390, "overview-phone")])
def test_overview_regressions_show_their_state_without_scrolling_at_desktop_width(  # type: ignore[no-untyped-def]
    browser, site, width, name
) -> None:
    """The review saw the regressions table's State column cut off at 1300 px."""
    server, _ = site
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/p/proj/")
    boxes = [
        (page.locator(f"{panel} .table-wrap").bounding_box(), page.locator(f"{panel} th").last)
        for panel in ("#regressions", "#improvements")
    ]
    edges = [(wrap, last.bounding_box()) for wrap, last in boxes]
    shot(page, name)
    context.close()
    if width < 1000:  # a phone scrolls a table sideways; a desktop must not need to
        return
    for wrap, last in edges:
        assert wrap is not None and last is not None
        assert last["x"] + last["width"] <= wrap["x"] + wrap["width"] + 0.5


def test_chromium_is_debians() -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
