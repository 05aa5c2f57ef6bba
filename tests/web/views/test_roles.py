"""Per-project roles on the dashboard and the API, with real users on SQLite and PostgreSQL.

A private project must be indistinguishable from a missing one to anyone who
may not read it: same status, same body, its name nowhere. Viewers read,
maintainers triage, global admins do everything.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tests.conftest import table_counts
from tests.factories import (
    grant_role,
    make_alert,
    make_history,
    make_project,
    make_token,
)
from tests.web.views.conftest import login
from web.models import AlertSummary, Annotation, AuditEntry, Commit, Job, Run, User
from web.views.routes import ROUTES

SECRET = "hidden-xyz"
MISSING = "absent-xyz"
PASSWORD = "correct horse"


@pytest.fixture()
def private(db_session: Session):  # type: ignore[no-untyped-def]
    """A private project with a series, an alert, a run and an annotation; plus four users."""
    project = make_project(db_session, SECRET, public=False)
    series = make_history(db_session, project, {"fast": [1.0] * 10 + [1.3] * 10})["fast"]
    alert = make_alert(db_session, series, 11, before=1.0, after=1.3)
    commit = db_session.scalar(select(Commit).where(Commit.project_id == project.id).limit(1))
    annotation = Annotation(series_id=series.id, commit_id=commit.id, kind="note", note="n")
    db_session.add(annotation)
    db_session.commit()
    # One hash for every user: hashing is slow on purpose and the tests need four.
    digest = generate_password_hash(PASSWORD)
    for name in ("outsider", "viewer", "keeper", "root"):
        db_session.add(User(username=name, password_hash=digest, is_admin=name == "root"))
    db_session.commit()
    grant_role(db_session, "viewer", SECRET, "viewer")
    grant_role(db_session, "keeper", SECRET, "maintainer")
    run_id = db_session.scalar(select(func.min(Run.id)).where(Run.project_id == project.id))
    ids = {
        "benchmark_id": series.benchmark_id,
        "series_id": series.id,
        "summary_id": alert.summary_id,
        "alert_id": alert.id,
        "annotation_id": annotation.id,
        "run_id": run_id,
    }
    return {"project": project, "series": series, "alert": alert, "ids": ids}


def _urls(project: str, ids: dict[str, int]) -> list[tuple[str, str]]:
    """Every project route of the dashboard's table, as (method, url)."""
    found = []
    for page in ROUTES:
        if "<project>" not in page.path:
            continue
        url = page.path.replace("<project>", project)
        url = re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), url)
        found.extend((method, url) for method in page.methods)
    return found


def _client(app, username: str | None):  # type: ignore[no-untyped-def]
    """A client logged in as ``username`` (None: anonymous, but holding a CSRF token)."""
    client = app.test_client()
    if username:
        client.csrf = login(client, username, PASSWORD)
    else:
        page = client.get("/login").get_data(as_text=True)
        client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client


def _call(client, method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url, **kwargs)
    data = {"csrf_token": client.csrf, "status": "fixed", "display_name": "x"}
    if url.endswith(".json"):
        return client.post(url, json={"status": "fixed"}, headers={"X-CSRF-Token": client.csrf})
    return client.post(url, data=data, **kwargs)


def _summary_status(db_session: Session, summary_id: int) -> str:
    db_session.expire_all()
    summary = db_session.get(AlertSummary, summary_id)
    assert summary is not None
    return summary.status


@pytest.mark.parametrize("who", [None, "outsider"])
def test_private_project_is_a_missing_one_on_every_route(  # type: ignore[no-untyped-def]
    app, private, db_session: Session, db_connection, who
) -> None:
    client = _client(app, who)
    before = table_counts(db_connection)
    routes = _urls(SECRET, private["ids"])
    assert len(routes) >= 15
    for (method, url), (_, missing_url) in zip(routes, _urls(MISSING, private["ids"]), strict=True):
        hidden = _call(client, method, url)
        absent = _call(client, method, missing_url)
        assert hidden.status_code == absent.status_code == 404, (who, method, url)
        assert hidden.get_data() == absent.get_data(), (method, url)
        assert SECRET not in hidden.get_data(as_text=True)
        assert "Location" not in hidden.headers
        if url.endswith(".json"):
            assert hidden.json["error"]["code"] == "not_found"
    assert table_counts(db_connection) == before
    listing = client.get("/").get_data(as_text=True)
    assert SECRET not in listing
    run = client.get(f"/runs/{private['ids']['run_id']}")
    assert run.status_code == 404 and "Location" not in run.headers


def test_token_of_another_project_sees_nothing_on_dashboard_json(  # type: ignore[no-untyped-def]
    client, private, db_session: Session
) -> None:
    other = make_token(db_session, make_project(db_session, "other"), "write")
    headers = {"Authorization": f"Bearer {other}"}
    series_id, summary_id = private["ids"]["series_id"], private["ids"]["summary_id"]
    for path in (f"series/{series_id}/points.json", f"alerts/{summary_id}/triage.json"):
        method = client.get if path.endswith("points.json") else client.post
        kwargs = {} if method is client.get else {"json": {"status": "fixed"}}
        hidden = method(f"/p/{SECRET}/{path}", headers=headers, **kwargs)
        absent = method(f"/p/{MISSING}/{path}", headers=headers, **kwargs)
        assert (hidden.status_code, hidden.json) == (404, absent.json)
    assert _summary_status(db_session, summary_id) == "untriaged"
    own = make_token(db_session, private["project"], "read")
    ok = client.get(
        f"/p/{SECRET}/series/{series_id}/points.json", headers={"Authorization": f"Bearer {own}"}
    )
    assert ok.status_code == 200


def test_viewer_reads_but_cannot_change_anything(  # type: ignore[no-untyped-def]
    app, private, db_session: Session, db_connection
) -> None:
    client = _client(app, "viewer")
    for method, url in _urls(SECRET, private["ids"]):
        if method == "GET":
            assert client.get(url).status_code == 200, url
    assert SECRET in client.get("/").get_data(as_text=True)
    alerts = client.get(f"/p/{SECRET}/alerts").get_data(as_text=True)
    assert "maintainer role" in alerts and 'name="status"' not in alerts
    before = table_counts(db_connection)
    for method, url in _urls(SECRET, private["ids"]):
        if method == "POST":
            refused = _call(client, method, url)
            assert refused.status_code == 403, url
            assert SECRET not in refused.get_data(as_text=True)
    assert table_counts(db_connection) == before
    assert _summary_status(db_session, private["ids"]["summary_id"]) == "untriaged"


def test_maintainer_triages_and_is_audited(app, private, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(app, "keeper")
    summary_id = private["ids"]["summary_id"]
    alerts = client.get(f"/p/{SECRET}/alerts").get_data(as_text=True)
    assert 'name="status"' in alerts
    done = client.post(
        f"/p/{SECRET}/alerts/{summary_id}/triage",
        data={"status": "acknowledged", "csrf_token": client.csrf},
    )
    assert done.status_code == 303
    assert _summary_status(db_session, summary_id) == "acknowledged"
    actors = db_session.scalars(
        select(AuditEntry.actor).where(AuditEntry.action == "alert_summary.triage")
    ).all()
    assert actors == ["keeper"]


def test_maintainer_of_one_project_cannot_triage_another(  # type: ignore[no-untyped-def]
    app, private, history, db_session: Session
) -> None:
    client = _client(app, "keeper")
    summary_id = history["alert"].summary_id
    refused = client.post(
        f"/p/proj/alerts/{summary_id}/triage", data={"status": "fixed", "csrf_token": client.csrf}
    )
    assert refused.status_code == 403
    assert _summary_status(db_session, summary_id) == "untriaged"


def test_global_admin_reads_and_writes_without_membership(  # type: ignore[no-untyped-def]
    app, private, db_session: Session
) -> None:
    client = _client(app, "root")
    assert SECRET in client.get("/").get_data(as_text=True)
    assert client.get(f"/p/{SECRET}/alerts").status_code == 200
    alert_id = private["ids"]["alert_id"]
    done = client.post(
        f"/p/{SECRET}/alert/{alert_id}/status",
        data={"status": "invalid", "csrf_token": client.csrf},
    )
    assert done.status_code == 303
    bench = private["ids"]["benchmark_id"]
    renamed = client.post(
        f"/p/{SECRET}/benchmarks/{bench}/rename",
        data={"display_name": "renamed", "csrf_token": client.csrf},
    )
    assert renamed.status_code == 303


def test_revoked_member_loses_the_project(app, private, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    from web.services.membership import revoke

    client = _client(app, "viewer")
    assert client.get(f"/p/{SECRET}/").status_code == 200
    revoke(db_session, "viewer", SECRET)
    db_session.commit()
    assert client.get(f"/p/{SECRET}/").status_code == 404


def test_api_private_project_is_a_missing_one(client, private, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    other = make_token(db_session, make_project(db_session, "other"), "write")
    series_id, run_id = private["ids"]["series_id"], private["ids"]["run_id"]
    paths = [
        "", "/benchmarks", "/series", f"/series/{series_id}", f"/runs/{run_id}", "/jobs", "/jobs/1",
    ]  # fmt: skip
    for headers in ({}, {"Authorization": f"Bearer {other}"}):
        for path in paths:
            hidden = client.get(f"/api/v1/projects/{SECRET}{path}", headers=headers)
            absent = client.get(f"/api/v1/projects/{MISSING}{path}", headers=headers)
            assert (hidden.status_code, hidden.json) == (404, absent.json), (path, headers)
            assert SECRET not in hidden.get_data(as_text=True)
    listed = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {other}"}).json
    assert SECRET not in [p["name"] for p in listed["projects"]]
    bad = {"Authorization": "Bearer bw_nonsense"}
    hidden = client.get(f"/api/v1/projects/{SECRET}", headers=bad)
    absent = client.get(f"/api/v1/projects/{MISSING}", headers=bad)
    assert (hidden.status_code, hidden.json) == (absent.status_code, absent.json)


def test_job_of_a_private_project_is_a_missing_job(client, private, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    job = Job(project_id=private["project"].id, commit_sha="a" * 40, machine="box1")
    db_session.add(job)
    db_session.commit()
    other = make_token(db_session, make_project(db_session, "other"), "write")
    headers = {"Authorization": f"Bearer {other}"}
    hidden = client.post(f"/api/v1/jobs/{job.id}/state", json={"state": "done"}, headers=headers)
    absent = client.post(
        f"/api/v1/jobs/{job.id + 1000}/state", json={"state": "done"}, headers=headers
    )
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json["error"]["code"] == absent.json["error"]["code"] == "job_not_found"
    assert SECRET not in hidden.get_data(as_text=True)
    db_session.refresh(job)
    assert job.state == "queued"
