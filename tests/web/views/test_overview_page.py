"""A project's landing page: its state in five seconds (issue 16, item 2); the projects list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_alert, make_history, make_project
from tests.web.views.conftest import XSS


@pytest.fixture()
def state(history, db_session: Session):  # type: ignore[no-untyped-def]
    """Open regressions of +20% and +5%, one closed, an improvement, a noisy series, 2 machines."""
    series = history["series"]
    small = make_alert(db_session, series["slow"], 30, before=2.0, after=2.1)
    gone = make_alert(db_session, series["slow"], 12, before=2.0, after=3.0)
    gone.confirmation = "not_reproduced"
    improved = make_alert(db_session, series[XSS], 25, before=5e-6, after=4e-6)
    series["slow"].unstable, series["slow"].noise = True, 0.08
    make_history(
        db_session, history["project"], {"fast": [1e-3] * 3}, machine="box2", first_commit=300
    )
    db_session.commit()
    return {"big": history["alert"], "small": small, "gone": gone, "improved": improved}


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section[^>]*id="{name}".*?</section>', page, re.S)
    assert found is not None, name
    return found.group(0)


def test_landing_page_is_the_overview(client, state) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/p/proj/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    regressions = _section(page, "regressions")
    order = re.findall(r'data-alert="(\d+)"', regressions)
    assert order == [str(state["big"].id), str(state["small"].id)]  # by magnitude, open only
    assert regressions.count('<svg class="spark') == 2
    assert "+20.0%" in regressions and "+5.0%" in regressions
    improvements = _section(page, "improvements")
    assert f'data-alert="{state["improved"].id}"' in improvements
    assert "&lt;img src=x" in improvements and "<img src=x" not in page
    noisy = _section(page, "noisy")
    assert ">slow<" in noisy and "8.0%" in noisy and '<svg class="spark' in noisy
    machines = _section(page, "machines")
    assert re.findall(r'data-machine="(\w+)"', machines) == ["box2", "box1"]  # newest run first
    assert machines.count("data-run=") == 3 + 5  # box2's three runs, box1's last five
    assert "commit 302" in machines
    headline = re.search(r'<p class="headline"[^>]*>(.*?)</p>', page, re.S)
    assert headline is not None
    assert "2 open regressions" in headline.group(1) and "1 noisy benchmark" in headline.group(1)


def test_old_benchmark_links_still_land_on_the_list(client, state) -> None:  # type: ignore[no-untyped-def]
    moved = client.get("/p/proj/?q=slo&machine=box1")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/p/proj/benchmarks?q=slo&machine=box1")
    listing = client.get("/p/proj/benchmarks?q=slo").get_data(as_text=True)
    assert ">slow<" in listing and ">fast<" not in listing


def test_empty_project_overview(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    make_project(db_session, "empty")
    page = client.get("/p/empty/").get_data(as_text=True)
    assert "No open regressions" in page and "No runs yet" in page
    compare = client.get("/p/empty/compare")
    assert compare.status_code == 200 and b"Nothing to compare yet" in compare.data
    assert b"No open alerts" in client.get("/p/empty/alerts").data


def test_projects_show_repository_urls_and_short_local_names(client, db_session) -> None:  # type: ignore[no-untyped-def]
    web = make_project(db_session, "web")
    web.repo_url = "https://github.com/org/web.git"
    local = make_project(db_session, "local")
    local.repo_url = "/srv/data/benchwarden/demo/target-repo"
    db_session.commit()
    page = client.get("/").get_data(as_text=True)
    assert (
        '<a href="https://github.com/org/web.git" rel="noopener noreferrer">github.com/org/web</a>'
        in page
    )
    assert "target-repo" in page and "/srv/data" not in page
    assert 'href="/p/web/"' in page
