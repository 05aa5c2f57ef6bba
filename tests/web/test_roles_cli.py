"""`benchwarden user grant|revoke|roles`: audited, clean errors, and in force on a real server.

Roles are granted by the real command against the live server's database
(SQLite and PostgreSQL); the server is then asked over real HTTP.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select
from werkzeug.security import generate_password_hash

from tests.conftest import LiveServer
from tests.factories import make_alert, make_history
from web.cli.main import main
from web.db import make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import AlertSummary, AuditEntry, User
from web.services.projects import create_project

PASSWORD = "correct horse"
NAMES = ("viewer", "keeper", "outsider")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _run(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["benchwarden", *args],
        env=os.environ | {"BENCHWARDEN_DATABASE_URL": url},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _ok(url: str, *args: str, stdin: str = "") -> str:
    done = _run(url, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _login(server: LiveServer, username: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{server.url}/login", timeout=60).text).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    done = browser.post(f"{server.url}/login", data=form, allow_redirects=False, timeout=60)
    assert done.status_code == 303, done.text
    return browser


def _triage(server: LiveServer, browser: requests.Session, summary_id: int) -> int:
    page = browser.get(f"{server.url}/p/secret/alerts", timeout=60)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    done = browser.post(
        f"{server.url}/p/secret/alerts/{summary_id}/triage",
        data={"status": "acknowledged", "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    return done.status_code


def _seed(server: LiveServer) -> int:
    """Private ``secret`` with one alert, and three users; returns the alert's summary id.

    Users are made here, not by `user create`: each command start is slow on a busy machine.
    """
    with session_scope(server.app.extensions["benchwarden.sessionmaker"]) as session:
        project = create_project(session, "secret", public=False)
        digest = generate_password_hash(PASSWORD)
        session.add_all(User(username=n, password_hash=digest) for n in NAMES)
        series = make_history(session, project, {"b": [1.0] * 5 + [1.3] * 5})["b"]
        return make_alert(session, series, 6).summary_id


def _status(server: LiveServer, summary_id: int) -> str:
    with server.app.extensions["benchwarden.sessionmaker"]() as session:
        summary = session.get(AlertSummary, summary_id)
        assert summary is not None
        return summary.status


def test_roles_granted_by_the_cli_rule_a_live_server(
    live_server: LiveServer, live_database: str
) -> None:
    url = live_database
    summary_id = _seed(live_server)
    _ok(url, "user", "grant", "viewer", "--project", "secret", "--role", "maintainer")
    assert _ok(url, "user", "roles", "viewer") == "secret\tmaintainer\n"
    _ok(url, "user", "grant", "viewer", "--project", "secret", "--role", "viewer")
    _ok(url, "user", "grant", "keeper", "--project", "secret", "--role", "maintainer")
    base = live_server.url

    anonymous = [requests.get(f"{base}/p/{name}/alerts", timeout=60) for name in ("secret", "x")]
    assert [r.status_code for r in anonymous] == [404, 404]
    assert anonymous[0].text == anonymous[1].text and "secret" not in anonymous[0].text
    api = [requests.get(f"{base}/api/v1/projects/{n}", timeout=60) for n in ("secret", "x")]
    assert [r.status_code for r in api] == [404, 404] and api[0].json() == api[1].json()
    outsider = _login(live_server, "outsider")
    hidden = outsider.get(f"{base}/p/secret/alerts", timeout=60)
    assert hidden.status_code == 404 and hidden.text == anonymous[1].text

    viewer = _login(live_server, "viewer")
    assert _triage(live_server, viewer, summary_id) == 403
    assert _status(live_server, summary_id) == "untriaged"
    assert _triage(live_server, _login(live_server, "keeper"), summary_id) == 303
    assert _status(live_server, summary_id) == "acknowledged"

    _ok(url, "user", "revoke", "viewer", "--project", "secret")
    assert viewer.get(f"{base}/p/secret/alerts", timeout=60).status_code == 404
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.actor, AuditEntry.details)
            .where(AuditEntry.action.like("member.%"))
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert [(a, t, d) for a, t, _, d in rows] == [
        ("member.grant", "user viewer", {"role": "maintainer", "previous": None}),
        ("member.grant", "user viewer", {"role": "viewer", "previous": "maintainer"}),
        ("member.grant", "user keeper", {"role": "maintainer", "previous": None}),
        ("member.revoke", "user viewer", {"role": "viewer"}),
    ]
    assert all(actor.startswith("cli:") for _, _, actor, _ in rows)


def test_role_commands_fail_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'roles.db'}"
    upgrade(url)
    engine = create_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        create_project(session, "proj")
        session.add(User(username="ada", password_hash="-"))
    cases = {
        ("grant", "nobody", "--project", "proj", "--role", "viewer"): "user 'nobody' does not",
        ("grant", "ada", "--project", "nope", "--role", "viewer"): "project 'nope' does not",
        ("grant", "ada", "--project", "proj", "--role", "owner"): "role must be one of",
        ("revoke", "ada", "--project", "proj"): "has no role on project",
        ("revoke", "ada", "--project", "nope"): "project 'nope' does not",
        ("roles", "nobody"): "user 'nobody' does not",
    }
    for args, message in cases.items():
        assert main(["user", *args, "--database-url", url]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    # The installed command too: one line, exit 2, no traceback.
    done = _run(url, "user", "grant", "ada", "--project", "proj", "--role", "owner")
    assert done.returncode == 2 and done.stderr.startswith("error: role must be one of")
    assert "Traceback" not in done.stderr
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action)).scalars().all()
    engine.dispose()
    assert "member.grant" not in actions and "member.revoke" not in actions
