"""The backtest page: the service's table for readers, and applying a row (maintainers)
through `project set`'s validated path with an audit entry (session + CSRF)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import table_counts
from tests.factories import grant_role, make_project, make_token, make_user
from tests.web.backtest_history import post_planted
from tests.web.views.conftest import login
from web.models import AuditEntry, Project

PAGE = "/p/proj/backtest"


@pytest.fixture()
def project(client, db_session: Session) -> Project:  # type: ignore[no-untyped-def]
    found = make_project(db_session, "proj")
    post_planted(client, db_session, make_token(db_session, found))
    return found


@pytest.fixture()
def maintainer(client, project, db_session):  # type: ignore[no-untyped-def]
    make_user(db_session, "ada")
    grant_role(db_session, "ada", "proj", "maintainer")
    client.csrf = login(client, "ada")
    return client


def _row(page: str, label: str) -> dict[str, str]:
    found = re.search(rf'<tr data-setting="{re.escape(label)}">(.*?)</tr>', page, re.S)
    assert found is not None, label
    return dict(re.findall(r'data-col="([^"]+)">([^<]*)</td>', found.group(1)))


def test_the_table_for_current_and_a_grid(maintainer) -> None:  # type: ignore[no-untyped-def]
    response = maintainer.get(PAGE, query_string={"grid": "min_rel_change=0.01,0.05"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    current = _row(page, "current")
    assert (current["raised"], current["kept"], current["new"]) == ("4", "4", "0")
    assert (current["kept invalid"], current["precision"], current["recall"]) == (
        "1",
        "0.667",
        "1.000",
    )
    assert _row(page, "min_rel_change=0.01")["new"] == "1"
    higher = _row(page, "min_rel_change=0.05")
    assert (higher["raised"], higher["dropped invalid"], higher["precision"]) == ("3", "1", "1.000")
    assert 'value="min_rel_change=0.01,0.05"' in page
    assert "<script>" not in page  # CSP: no inline scripts


def test_a_bad_grid_is_shown_with_the_current_row(maintainer) -> None:  # type: ignore[no-untyped-def]
    response = maintainer.get(PAGE, query_string={"grid": "machines=a,b"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "machines: not a detector setting" in page
    assert _row(page, "current")["raised"] == "4"


def test_viewers_read_the_table_but_cannot_apply(client, project, db_session) -> None:  # type: ignore[no-untyped-def]
    make_user(db_session, "bob")
    grant_role(db_session, "bob", "proj", "viewer")
    login(client, "bob")
    page = client.get(PAGE, query_string={"grid": "min_rel_change=0.05"}).get_data(as_text=True)
    assert _row(page, "min_rel_change=0.05")["raised"] == "3"
    assert "data-apply" not in page
    assert "Backtest</a>" not in client.get("/p/proj/alerts").get_data(as_text=True)


def test_applying_a_row_sets_the_project_and_audits_it(maintainer, db_session) -> None:  # type: ignore[no-untyped-def]
    page = maintainer.get(PAGE, query_string={"grid": "min_rel_change=0.05"}).get_data(as_text=True)
    assert "Backtest</a>" in page
    response = maintainer.post(
        PAGE + "/apply",
        data={
            "csrf_token": maintainer.csrf,
            "assignment": "detector.min_rel_change=0.05",
            "grid": "min_rel_change=0.05",
        },
    )
    assert response.status_code == 303
    assert "grid=min_rel_change" in response.headers["Location"]
    db_session.expire_all()
    settings = db_session.scalar(select(Project.settings).where(Project.name == "proj"))
    assert settings == {"detector": {"min_rel_change": 0.05}}
    entry = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.actor, entry.action, entry.target) == ("ada", "project.settings", "proj")
    assert entry.details == {"set": ["detector.min_rel_change"], "source": "backtest"}
    after = maintainer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Applied detector.min_rel_change=0.05 to proj." in after
    assert _row(after, "current")["raised"] == "3"  # the current setting is now 0.05


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"assignment": "detector.min_rel_change=0.05"}, 400),  # no CSRF token
        ({"csrf": True, "assignment": "github.repo=evil/repo"}, 303),  # not a detector key
        ({"csrf": True, "assignment": "detector.min_rel_change=-1"}, 303),  # refused value
        ({"csrf": True}, 303),  # nothing chosen
    ],
)
def test_refused_applications_change_nothing(maintainer, db_connection, form, status) -> None:  # type: ignore[no-untyped-def]
    before = table_counts(db_connection)
    data = {k: v for k, v in form.items() if k != "csrf"}
    if form.get("csrf"):
        data["csrf_token"] = maintainer.csrf
    response = maintainer.post(PAGE + "/apply", data=data)
    assert response.status_code == status
    assert table_counts(db_connection) == before
    if status == 303:
        flashed = maintainer.get(response.headers["Location"]).get_data(as_text=True)
        assert 'class="flash error"' in flashed


def test_viewers_cannot_apply(client, project, db_session, db_connection) -> None:  # type: ignore[no-untyped-def]
    make_user(db_session, "bob")
    grant_role(db_session, "bob", "proj", "viewer")
    csrf = login(client, "bob")
    before = table_counts(db_connection)
    response = client.post(
        PAGE + "/apply", data={"csrf_token": csrf, "assignment": "detector.min_rel_change=0.05"}
    )
    assert response.status_code == 403
    assert table_counts(db_connection) == before
