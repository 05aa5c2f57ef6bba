"""Dashboard fixtures: a project with history, alerts and a logged-in client."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from tests.factories import grant_role, make_alert, make_history, make_project, make_user

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture()
def history(db_session: Session):  # type: ignore[no-untyped-def]
    """proj: three benchmarks over 40 commits; ``fast`` regresses 20% at commit 21."""
    project = make_project(db_session, "proj")
    project.repo_url = "https://forge.example/org/proj"
    db_session.commit()
    fast = [1e-3] * 20 + [1.2e-3] * 20
    series = make_history(
        db_session,
        project,
        {"fast": fast, "slow": [2.0 + 0.01 * (i % 3) for i in range(40)], XSS: [5e-6] * 40},
        stddev=1e-5,
        samples=5,
    )
    alert = make_alert(db_session, series["fast"], 21, before=1e-3, after=1.2e-3)
    return {"project": project, "series": series, "alert": alert}


def login(client, username: str = "maintainer", password: str = "correct horse"):  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return token_of(client)


def token_of(client) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token the pages of this session carry (Flask-WTF signs it per session)."""
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


@pytest.fixture()
def user(db_session: Session):  # type: ignore[no-untyped-def]
    return make_user(db_session)


@pytest.fixture()
def writer_client(client, user, history, db_session: Session):  # type: ignore[no-untyped-def]
    """Logged in as a maintainer of ``proj``."""
    grant_role(db_session, user.username, "proj", "maintainer")
    client.csrf = login(client)
    return client
