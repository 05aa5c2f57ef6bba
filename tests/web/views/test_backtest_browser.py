"""The backtest page in headless Chromium: a maintainer replays a grid and applies a row.

The seed is `tests.web.backtest_history` (known true and false alerts), committed
to a PostgreSQL database behind a live server. A screenshot goes to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import LiveServer
from tests.factories import grant_role, make_user
from tests.web.backtest_history import seed_planted
from tests.web.views.test_browser import CHROMIUM, launch_chromium, shot, sync_api
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade
from web.models import AuditEntry, Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory) -> Iterator[tuple[LiveServer, str]]:  # type: ignore[no-untyped-def]
    if pg_server is None:
        pytest.skip("browser tests start their own PostgreSQL database")
    if not Path(CHROMIUM).exists():
        pytest.skip("apt-get install chromium")
    url = pg_server.create_database("bw_backtest_browser")
    upgrade(url)
    where = tmp_path_factory.mktemp("backtest-browser")
    seed_planted(url, where)
    engine = make_engine(url)
    with Session(engine) as session:
        make_user(session, "ada")
        grant_role(session, "ada", "proj", "maintainer")
    engine.dispose()
    settings = replace(
        Settings.from_env({}), data_dir=where, database_url=url, secret_key="browser-test"
    )
    with LiveServer(settings) as server:
        yield server, url


def _stored(url: str) -> tuple[object, list[tuple[str, str, object]]]:
    engine = make_engine(url)
    with Session(engine) as session:
        settings = session.scalar(select(Project.settings).where(Project.name == "proj"))
        entries = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.details).where(
                AuditEntry.action == "project.settings"
            )
        ).all()
    engine.dispose()
    return settings, [tuple(e) for e in entries]


def test_a_maintainer_replays_a_grid_and_applies_a_row(site) -> None:  # type: ignore[no-untyped-def]
    server, url = site
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{server.url}/login?next=/p/proj/alerts")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", "correct horse")
        page.click("button:has-text('Log in')")
        page.get_by_role("link", name="Backtest").click()
        page.wait_for_selector("#backtest")
        assert page.locator("#backtest tbody tr").count() == 1
        page.fill("input[name=grid]", "min_rel_change=0.01,0.02,0.05")
        page.click("button:has-text('Replay')")
        page.wait_for_selector("tr[data-setting='min_rel_change=0.05']")
        cell = "tr[data-setting='{}'] td[data-col='{}']"
        assert page.inner_text(cell.format("current", "precision")) == "0.667"
        assert page.inner_text(cell.format("min_rel_change=0.01", "new")) == "1"
        assert page.inner_text(cell.format("min_rel_change=0.05", "dropped invalid")) == "1"
        assert page.inner_text(cell.format("min_rel_change=0.05", "precision")) == "1.000"
        shot(page, "backtest-grid")
        assert _stored(url) == ({}, [])
        page.click("tr[data-setting='min_rel_change=0.05'] button[data-apply]")
        page.wait_for_selector("p.flash.ok")
        assert "Applied detector.min_rel_change=0.05 to proj." in page.inner_text("p.flash.ok")
        # Back on the same grid, the current setting is now the applied one.
        assert page.input_value("input[name=grid]") == "min_rel_change=0.01,0.02,0.05"
        assert page.inner_text(cell.format("current", "raised")) == "3"
        settings, entries = _stored(url)
        assert settings == {"detector": {"min_rel_change": 0.05}}
        assert entries == [
            ("ada", "project.settings", {"set": ["detector.min_rel_change"], "source": "backtest"})
        ]
        assert problems == []
        browser.close()
