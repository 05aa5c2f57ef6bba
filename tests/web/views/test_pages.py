"""Dashboard pages over the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import grant_role, make_token, sha
from tests.web.views.conftest import XSS, login, token_of
from web.models import AlertSummary, Annotation, AuditEntry, Benchmark, Run
from web.views import pages


def _get(client, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    body = response.get_data(as_text=True)
    response.close()
    return response.status_code, body


def _pages(history) -> list[str]:  # type: ignore[no-untyped-def]
    fast = history["series"]["fast"]
    return [
        "/",
        "/p/proj/",
        "/p/proj/benchmarks",
        "/p/proj/benchmarks?q=FAST&machine=box1&measure=time&suite=suite",
        f"/p/proj/benchmarks/{fast.benchmark_id}",
        f"/p/proj/benchmarks/{history['series'][XSS].benchmark_id}",
        "/p/proj/alerts",
        "/p/proj/alerts?status=untriaged",
        f"/p/proj/compare?baseline={sha(1)}&candidate={sha(30)}",
        f"/p/proj/compare?kind=runs&baseline={history['run_id']}"
        f"&candidate={history['run_id'] + 29}&verdict=regression",
        "/p/proj/machines",
        f"/p/proj/runs/{history['run_id']}",
    ]


def test_every_page_renders_and_escapes_user_text(writer_client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    # Run ids depend on the order tests ran in (PostgreSQL sequences are not rolled back).
    history["run_id"] = db_session.scalar(
        select(func.min(Run.id)).where(Run.project_id == history["project"].id)
    )
    for url in _pages(history):
        status, body = _get(writer_client, url)
        assert status == 200, (url, body[:500])
        assert "<img src=x" not in body, url
    _, listing = _get(writer_client, "/p/proj/benchmarks")
    assert "&lt;img src=x onerror=alert(1)&gt;" in listing
    assert listing.count("<polyline") == 3


def test_benchmark_filters_and_search(client, history) -> None:  # type: ignore[no-untyped-def]
    _, body = _get(client, "/p/proj/benchmarks?q=slo")
    assert ">slow<" in body and ">fast<" not in body
    _, body = _get(client, "/p/proj/benchmarks?machine=nope")
    assert "No benchmarks match." in body


def test_benchmarks_page_through_every_row_once(client, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pages, "PAGE_ROWS", 2)
    titles = {"fast", "slow", html.escape(XSS)}
    seen: list[str] = []
    for page, shown in ((1, "rows 1–2"), (2, "rows 3–3")):
        status, body = _get(client, f"/p/proj/benchmarks?machine=box1&page={page}")
        assert status == 200 and f"3 series ({shown} shown)" in body
        assert f"Page {page} of 2" in body
        seen += [t for t in titles if f">{t}</a>" in body]
        links = re.findall(r'<a href="([^"]+)" rel="(prev|next)">', body)
        assert [rel for _, rel in links] == (["next"] if page == 1 else ["prev"])
        assert "machine=box1" in links[0][0]
    assert sorted(seen) == sorted(titles)
    assert _get(client, "/p/proj/benchmarks?machine=box1&page=3")[0] == 404
    status, body = _get(client, "/p/proj/benchmarks?page=first")
    assert status == 200 and "Page 1 of 2" in body
    _, one_page = _get(client, "/p/proj/benchmarks?q=slo")
    assert "1 series." in one_page and 'rel="next"' not in one_page


def test_compare_service_rules(db_session: Session, history) -> None:  # type: ignore[no-untyped-def]
    from web.services.compare import CompareError, compare_commits

    result = compare_commits(db_session, history["project"].id, sha(1), sha(31), "box1")
    by_name = {r.name: r for r in result.rows}
    assert result.rows[0].name == "fast"  # the regression sorts first
    assert by_name["fast"].comparison.verdict == "regression"
    assert by_name["fast"].basis == "samples"
    assert by_name["slow"].comparison.verdict == "no_change"
    try:
        compare_commits(db_session, history["project"].id, sha(1), "f" * 40)
    except CompareError as exc:
        assert "no runs" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown commit accepted")


def test_reads_can_require_login(app, client, history, user) -> None:  # type: ignore[no-untyped-def]
    settings = app.extensions["benchwarden.settings"]
    app.extensions["benchwarden.settings"] = replace(settings, public_read=False)
    response = client.get("/p/proj/alerts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert (
        client.get(f"/p/proj/series/{history['series']['fast'].id}/points.json").status_code == 401
    )
    login(client)
    assert client.get("/p/proj/alerts").status_code == 200


def test_login_rejects_bad_password_and_foreign_next(client, user) -> None:  # type: ignore[no-untyped-def]
    token = token_of(client)
    bad = client.post(
        "/login", data={"username": "maintainer", "password": "x", "csrf_token": token}
    )
    assert bad.status_code == 401
    good = client.post(
        "/login",
        data={
            "username": "maintainer",
            "password": "correct horse",
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert good.status_code == 303 and good.headers["Location"] == "/"
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_triage_needs_login_and_csrf_and_is_audited(  # type: ignore[no-untyped-def]
    client, history, user, db_session: Session
) -> None:
    summary_id = history["alert"].summary_id
    url = f"/p/proj/alerts/{summary_id}/triage"
    assert client.post(url, data={"status": "fixed"}).status_code == 400  # no CSRF token
    grant_role(db_session, user.username, "proj", "maintainer")
    token = login(client)
    assert client.post(url, data={"status": "fixed"}).status_code == 400
    response = client.post(
        url,
        data={
            "status": "acknowledged",
            "issue_url": "https://bugs.example/1",
            "note": XSS,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    summary = db_session.get(AlertSummary, summary_id)
    db_session.refresh(summary)
    assert (summary.status, summary.issue_url, summary.note) == (
        "acknowledged",
        "https://bugs.example/1",
        XSS,
    )
    bad = client.post(url, data={"issue_url": "javascript:alert(1)", "csrf_token": token})
    assert bad.status_code == 303
    db_session.refresh(summary)
    assert summary.issue_url == "https://bugs.example/1"
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "alert_summary.triage"))
    assert entry is not None and entry.actor == "maintainer"
    _, page = _get(client, "/p/proj/alerts")
    assert "&lt;img src=x" in page and "<img src=x" not in page


def test_triage_json_by_token(client, history, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    url = f"/p/proj/alerts/{history['alert'].summary_id}/triage.json"
    assert client.post(url, json={"status": "invalid"}).status_code in (400, 401)
    read = make_token(db_session, history["project"], "read")
    denied = client.post(
        url, json={"status": "invalid"}, headers={"Authorization": f"Bearer {read}"}
    )
    assert denied.status_code == 403 and denied.json["error"]["message"]
    write = make_token(db_session, history["project"], "write")
    headers = {"Authorization": f"Bearer {write}"}
    ok = client.post(url, json={"status": "investigating"}, headers=headers)
    assert ok.status_code == 200 and ok.json["summary"]["status"] == "investigating"
    bad = client.post(url, json={"status": "nonsense"}, headers=headers)
    assert bad.status_code == 422


def test_rename_merge_and_known_change(writer_client, history, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    fast, slow = history["series"]["fast"], history["series"]["slow"]
    csrf = {"csrf_token": writer_client.csrf}
    base = f"/p/proj/benchmarks/{fast.benchmark_id}"
    assert (
        writer_client.post(f"{base}/rename", data={"display_name": "quick"} | csrf).status_code
        == 303
    )
    assert db_session.get(Benchmark, fast.benchmark_id).name == "fast"
    merged = writer_client.post(f"{base}/merge", data={"source_id": slow.benchmark_id} | csrf)
    assert merged.status_code == 303
    points = writer_client.get(f"/p/proj/series/{fast.id}/points.json?max=20000").json
    # both histories, one point per commit: each commit's point holds both benchmarks' results
    assert points["total"] == 40 and {len(r) for r in points["points"]["runs"]} == {2}
    _, listing = _get(writer_client, "/p/proj/benchmarks")
    assert ">quick<" in listing and ">slow<" not in listing
    cycle = writer_client.post(
        f"/p/proj/benchmarks/{slow.benchmark_id}/merge",
        data={"source_id": fast.benchmark_id} | csrf,
    )
    assert cycle.status_code == 303
    assert db_session.get(Benchmark, fast.benchmark_id).merged_into_id is None
    note = writer_client.post(
        f"/p/proj/series/{fast.id}/annotations",
        data={
            "sha": sha(21)[-12:].lstrip("0") or sha(21),
            "kind": "known_change",
            "note": "new allocator",
        }
        | csrf,
    )
    assert note.status_code == 303
    found = writer_client.post(
        f"/p/proj/series/{fast.id}/annotations",
        data={"sha": sha(21), "kind": "known_change", "note": "new allocator"} | csrf,
    )
    assert found.status_code == 303
    annotation = db_session.scalar(select(Annotation).where(Annotation.series_id == fast.id))
    assert annotation is not None and annotation.kind == "known_change"
    data = writer_client.get(f"/p/proj/series/{fast.id}/points.json").json
    assert [a["sha"] for a in data["annotations"]] == [sha(21)]


def test_series_json_downsamples_and_zooms(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_alert, make_history, make_project

    project = make_project(db_session, "big")
    values = [1.0 + (i % 7) * 0.01 for i in range(3000)]
    values[1234] = 9.0  # a spike that must survive downsampling
    series = make_history(db_session, project, {"b": values})["b"]
    make_alert(db_session, series, 2001)
    url = f"/p/big/series/{series.id}/points.json"
    overview = client.get(f"{url}?max=200").json
    assert overview["total"] == 3000 and not overview["full_resolution"]
    assert len(overview["points"]["i"]) <= 205
    assert 1234 in overview["points"]["i"] and 2000 in overview["points"]["i"]
    assert overview["alerts"][0]["i"] == 2000
    zoom = client.get(f"{url}?max=200&start=100&end=250").json
    assert zoom["full_resolution"] and zoom["points"]["i"] == list(range(100, 250))
    assert client.get(f"{url}?start=x").status_code == 400
    assert client.get("/p/big/series/999999/points.json").json["error"]["code"] == "not_found"
