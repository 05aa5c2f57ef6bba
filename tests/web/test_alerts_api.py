"""Alerts over the API on both engines: lists, filters, paging, one alert, one summary, triage."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_alert, make_history, make_project, make_token, sha
from web.models import Alert, AlertSummary, AuditEntry, Benchmark, Commit, Machine, Series

API = "/api/v1/projects/proj"


@pytest.fixture()
def alerts(db_session: Session) -> dict[str, Any]:
    """proj over 12 commits on box1 (fast, slow) and box2 (fast); five alerts, oldest first:

    fast@box1 regresses at 4, slow@box1 improves at 6, fast@box2 regresses at 6
    (sharing slow's summary), fast@box1 regresses at 9 (acknowledged) and
    slow@box1 improves at 11. Alert at 9 has a culprit and a confirmation.
    """
    project = make_project(db_session, "proj")
    values = {"fast": [1.0] * 12, "slow": [2.0] * 12}
    box1 = make_history(db_session, project, values, machine="box1")
    box2 = _on_machine(db_session, box1["fast"], "box2")
    a4 = make_alert(db_session, box1["fast"], 4)
    a6 = make_alert(db_session, box1["slow"], 6, before=2.0, after=1.5)
    summary6 = db_session.get(AlertSummary, a6.summary_id)
    b6 = make_alert(db_session, box2, 6, after=1.3, summary=summary6)
    a9 = make_alert(db_session, box1["fast"], 9, status="acknowledged")
    a11 = make_alert(db_session, box1["slow"], 11, before=2.0, after=1.8)
    a9.culprit_commit_id = db_session.scalar(select(Commit.id).where(Commit.sha == sha(8)))
    a9.confirmation = "confirmed"
    db_session.get(Benchmark, box1["fast"].benchmark_id).params = {"n": "10"}  # type: ignore[union-attr]
    db_session.commit()
    return {
        "project": project,
        "ids": [a.id for a in (a4, a6, b6, a9, a11)],
        "a4": a4,
        "a6": a6,
        "b6": b6,
        "a9": a9,
        "a11": a11,
        "write": make_token(db_session, project, "write"),
        "read": make_token(db_session, project, "read"),
    }


def _on_machine(session: Session, series: Series, machine: str) -> Series:
    """The same benchmark and branch measured on another machine (no results needed)."""
    box = Machine(project_id=series.project_id, name=machine)
    session.add(box)
    session.flush()
    twin = Series(
        project_id=series.project_id,
        benchmark_id=series.benchmark_id,
        measure_id=series.measure_id,
        machine_id=box.id,
        branch_id=series.branch_id,
    )
    session.add(twin)
    session.commit()
    return twin


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ids(client, query: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/alerts{query}")
    assert response.status_code == 200, response.json
    return [a["id"] for a in response.json["alerts"]]


def test_list_is_newest_first_with_series_context(client, alerts) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/alerts")
    assert response.status_code == 200
    body = response.json
    assert [a["id"] for a in body["alerts"]] == alerts["ids"][::-1]
    assert body["next_before_id"] is None
    a9 = next(a for a in body["alerts"] if a["id"] == alerts["a9"].id)
    assert a9["kind"] == "regression" and a9["status"] == "acknowledged"
    assert a9["series"]["benchmark"] == "fast" and a9["series"]["params"] == {"n": "10"}
    assert (a9["series"]["machine"], a9["series"]["branch"]) == ("box1", "main")
    assert (a9["first_commit"], a9["last_good_commit"], a9["culprit"]) == (sha(9), sha(8), sha(8))
    assert a9["url"] == f"http://bw.test/p/proj/alert/{alerts['a9'].id}"


def test_each_filter(client, alerts) -> None:  # type: ignore[no-untyped-def]
    a4, a6, b6, a9, a11 = alerts["ids"]
    assert _ids(client, "?status=acknowledged") == [a9]
    assert _ids(client, "?status=untriaged") == [a11, b6, a6, a4]
    assert _ids(client, "?kind=improvement") == [a11, a6]
    assert _ids(client, "?kind=regression") == [a9, b6, a4]
    assert _ids(client, "?machine=box2") == [b6]
    assert _ids(client, "?machine=nowhere") == []
    assert _ids(client, "?branch=main") == [a11, a9, b6, a6, a4]
    # git's after..until: after commit 4, up to and including commit 9
    assert _ids(client, f"?after_commit={sha(4)}&until_commit={sha(9)}") == [a9, b6, a6]
    assert _ids(client, f"?until_commit={sha(6).upper()}") == [b6, a6, a4]
    assert _ids(client, f"?after_commit={sha(9)}") == [a11]
    assert _ids(client, f"?kind=regression&machine=box1&after_commit={sha(3)}") == [a9, a4]


def test_paging_by_before_id(client, alerts) -> None:  # type: ignore[no-untyped-def]
    ids = alerts["ids"][::-1]
    first = client.get(f"{API}/alerts?limit=2").json
    assert [a["id"] for a in first["alerts"]] == ids[:2]
    assert first["next_before_id"] == ids[1]
    second = client.get(f"{API}/alerts?limit=2&before_id={first['next_before_id']}").json
    assert [a["id"] for a in second["alerts"]] == ids[2:4]
    third = client.get(f"{API}/alerts?limit=2&before_id={second['next_before_id']}").json
    assert [a["id"] for a in third["alerts"]] == ids[4:]
    assert third["next_before_id"] is None
    # the filters hold on every page
    improving = client.get(f"{API}/alerts?kind=improvement&limit=1").json
    assert improving["next_before_id"] == alerts["a11"].id
    rest = f"{API}/alerts?kind=improvement&limit=1&before_id={improving['next_before_id']}"
    assert [a["id"] for a in client.get(rest).json["alerts"]] == [alerts["a6"].id]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=%C2%B2",
        "before_id=0",
        "before_id=99999999999999999999",
        "kind=slower",
        "status=closed",
        "after_commit=xyz",
        "until_commit=" + "a" * 41,
        "after_commit=" + "f" * 40,  # well-formed, no such commit
        "after_commit=0000",  # a prefix of every commit
    ],
)
def test_bad_list_parameters_are_400_in_the_envelope(client, alerts, query) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/alerts?{query}")
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "invalid_parameter"
    assert query.split("=")[0] in response.json["error"]["message"]


def test_one_alert_and_its_404s(client, alerts, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    a6 = alerts["a6"]
    body = client.get(f"{API}/alerts/{a6.id}").json
    assert body["id"] == a6.id and body["summary_id"] == a6.summary_id
    assert body["kind"] == "improvement" and body["rel_change"] == pytest.approx(-0.25)
    assert (body["before"], body["after"], body["pvalue"]) == (2.0, 1.5, 0.001)
    assert body["culprit"] is None and body["active"] is True
    assert body["confirmation"] == "candidate"
    assert body["series"]["measure"] == "time" and body["series"]["unit"] == "s"
    assert body["series"]["direction"] == "lower_is_better"
    missing = client.get(f"{API}/alerts/{max(alerts['ids']) + 100}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "alert_not_found"
    other = make_project(db_session, "other")
    series = make_history(db_session, other, {"x": [1.0] * 3})
    foreign = make_alert(db_session, series["x"], 2)
    assert client.get(f"{API}/alerts/{foreign.id}").status_code == 404
    assert client.get(f"/api/v1/projects/other/alerts/{foreign.id}").status_code == 200
    assert client.get("/api/v1/projects/other/alerts").json["alerts"][0]["id"] == foreign.id


def test_one_summary_with_its_alerts(client, alerts) -> None:  # type: ignore[no-untyped-def]
    summary_id = alerts["a6"].summary_id
    body = client.get(f"{API}/summaries/{summary_id}").json
    assert body["summary"]["id"] == summary_id
    assert body["summary"]["status"] == "untriaged" and body["summary"]["branch"] == "main"
    assert (body["summary"]["first_commit"], body["summary"]["last_good_commit"]) == (
        sha(6),
        sha(5),
    )
    # largest change first: slow -25%, then fast@box2 +30%
    assert [a["id"] for a in body["alerts"]] == [alerts["b6"].id, alerts["a6"].id]
    missing = client.get(f"{API}/summaries/{summary_id + 1000}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "summary_not_found"


def test_private_project_is_404_without_its_token(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    hidden = make_project(db_session, "hidden", public=False)
    series = make_history(db_session, hidden, {"x": [1.0] * 3})
    alert = make_alert(db_session, series["x"], 2)
    outsider = make_token(db_session, make_project(db_session, "open"), "write")
    own = make_token(db_session, hidden, "read")
    for path in ("/alerts", f"/alerts/{alert.id}", f"/summaries/{alert.summary_id}"):
        url = f"/api/v1/projects/hidden{path}"
        assert client.get(url).json["error"]["code"] == "project_not_found"
        assert client.get(url, headers=_auth(outsider)).status_code == 404
        assert client.get(url, headers=_auth(own)).status_code == 200
    patched = client.patch(
        f"/api/v1/projects/hidden/alerts/{alert.id}",
        json={"status": "invalid"},
        headers=_auth(outsider),
    )
    assert patched.status_code == 404


def _audit(db_session: Session, action: str) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_patch_alert_triages_and_is_audited(client, alerts, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    a4 = alerts["a4"]
    response = client.patch(
        f"{API}/alerts/{a4.id}", json={"status": "invalid"}, headers=_auth(alerts["write"])
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "invalid" and response.json["id"] == a4.id
    db_session.expire_all()
    assert db_session.get(Alert, a4.id).status == "invalid"  # type: ignore[union-attr]
    (entry,) = _audit(db_session, "alert.triage")
    assert entry.target == f"alert:{a4.id}" and entry.project_id == alerts["project"].id
    assert entry.actor == f"token:{alerts['write'][:10]}"
    assert entry.details == {"status": ["untriaged", "invalid"]}
    # the summary keeps its own status, as on the dashboard
    assert db_session.get(AlertSummary, a4.summary_id).status == "untriaged"  # type: ignore[union-attr]


def test_patch_is_refused_without_a_write_token_of_the_project(  # type: ignore[no-untyped-def]
    client, alerts, db_session: Session
) -> None:
    a4 = alerts["a4"]
    urls = [f"{API}/alerts/{a4.id}", f"{API}/summaries/{a4.summary_id}"]
    other = make_token(db_session, make_project(db_session, "other"), "write")
    for url in urls:
        anonymous = client.patch(url, json={"status": "fixed"})
        assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "unauthorized"
        read = client.patch(url, json={"status": "fixed"}, headers=_auth(alerts["read"]))
        assert read.status_code == 403 and read.json["error"]["code"] == "forbidden"
        foreign = client.patch(url, json={"status": "fixed"}, headers=_auth(other))
        assert foreign.status_code == 403 and foreign.json["error"]["code"] == "forbidden"
        revoked = client.patch(url, json={"status": "fixed"}, headers=_auth("bw_nonsense"))
        assert revoked.status_code == 401
    db_session.expire_all()
    assert db_session.get(Alert, a4.id).status == "untriaged"  # type: ignore[union-attr]
    assert _audit(db_session, "alert.triage") == _audit(db_session, "alert_summary.triage") == []


@pytest.mark.parametrize(
    "body",
    [
        {"status": "closed"},
        {"status": 3},
        {"status": None},
        {},
        {"status": "fixed", "extra": 1},
    ],
)
def test_patch_alert_with_a_bad_body_is_422(client, alerts, db_session: Session, body) -> None:  # type: ignore[no-untyped-def]
    url = f"{API}/alerts/{alerts['a4'].id}"
    response = client.patch(url, json=body, headers=_auth(alerts["write"]))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid_triage"
    assert _audit(db_session, "alert.triage") == []


def test_patch_needs_a_json_object_and_a_known_alert(client, alerts) -> None:  # type: ignore[no-untyped-def]
    headers = _auth(alerts["write"])
    url = f"{API}/alerts/{alerts['a4'].id}"
    for data in ("status=fixed", "[1]", "{"):
        response = client.patch(
            url, data=data, headers=headers | {"Content-Type": "application/json"}
        )
        assert response.status_code == 400 and response.json["error"]["code"] == "invalid_body"
    missing = client.patch(
        f"{API}/alerts/{max(alerts['ids']) + 100}", json={"status": "fixed"}, headers=headers
    )
    assert missing.status_code == 404 and missing.json["error"]["code"] == "alert_not_found"
    gone = client.patch(f"{API}/summaries/999999", json={"status": "fixed"}, headers=headers)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "summary_not_found"


def test_patch_summary_triages_its_alerts_and_is_audited(  # type: ignore[no-untyped-def]
    client, alerts, db_session: Session
) -> None:
    summary_id = alerts["a6"].summary_id
    url = f"{API}/summaries/{summary_id}"
    headers = _auth(alerts["write"])
    body = {"status": "investigating", "issue_url": "https://bugs.example/7", "note": " slow "}
    response = client.patch(url, json=body, headers=headers)
    assert response.status_code == 200, response.json
    out = response.json
    assert (out["summary"]["status"], out["summary"]["issue_url"], out["summary"]["note"]) == (
        "investigating",
        "https://bugs.example/7",
        "slow",
    )
    assert {a["status"] for a in out["alerts"]} == {"investigating"}
    (entry,) = _audit(db_session, "alert_summary.triage")
    assert entry.target == f"alert_summary:{summary_id}"
    assert entry.actor == f"token:{alerts['write'][:10]}"
    changes: Any = entry.details["changes"]
    assert changes["status"] == ["untriaged", "investigating"]
    # absent fields stay; null clears
    cleared = client.patch(url, json={"note": None}, headers=headers).json["summary"]
    assert cleared["note"] is None and cleared["issue_url"] == "https://bugs.example/7"
    assert cleared["status"] == "investigating"
    # other summaries are untouched
    assert client.get(f"{API}/alerts/{alerts['a4'].id}").json["status"] == "untriaged"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "closed"},
        {"status": "fixed", "issue_url": "javascript:alert(1)"},
        {"status": "fixed", "issue_url": "https://x/" + "a" * 2000},
        {"status": "fixed", "note": "n" * 5001},
        {"status": "fixed", "note": 5},
        {"status": "fixed", "owner": "me"},
        {"status": None, "note": "why"},
        {},
    ],
)
def test_patch_summary_with_a_bad_body_is_422_and_changes_nothing(  # type: ignore[no-untyped-def]
    client, alerts, db_session: Session, body
) -> None:
    summary_id = alerts["a6"].summary_id
    response = client.patch(
        f"{API}/summaries/{summary_id}", json=body, headers=_auth(alerts["write"])
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid_triage"
    db_session.expire_all()
    assert db_session.get(AlertSummary, summary_id).status == "untriaged"  # type: ignore[union-attr]
    assert _audit(db_session, "alert_summary.triage") == []


def test_openapi_lists_the_alert_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").json["paths"]
    base = "/api/v1/projects/{project}"
    assert set(paths[f"{base}/alerts"]) == {"get"}
    assert set(paths[f"{base}/alerts/{{alert_id}}"]) == {"get", "patch"}
    assert set(paths[f"{base}/summaries/{{summary_id}}"]) == {"get", "patch"}
    listed = {p["name"] for p in paths[f"{base}/alerts"]["get"]["parameters"]}
    assert {"status", "kind", "machine", "after_commit", "until_commit", "limit"} <= listed
    assert {"before_id", "branch", "project"} <= listed
    patch = paths[f"{base}/alerts/{{alert_id}}"]["patch"]
    assert patch["security"] == [{"bearer": []}] and "422" in patch["responses"]
    assert "requestBody" in patch
