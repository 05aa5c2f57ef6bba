"""``GET /api/v1/projects/{p}/backtest`` on both engines: the service's rows, read access, 400s."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.conftest import table_counts
from tests.factories import make_project, make_token
from tests.web.backtest_history import post_planted
from web.api.backtest import row_out
from web.models import Project
from web.services.backtest import backtest, candidates

URL = "/api/v1/projects/proj/backtest"


@pytest.fixture()
def project(client, db_session: Session) -> Project:  # type: ignore[no-untyped-def]
    found = make_project(db_session, "proj")
    post_planted(client, db_session, make_token(db_session, found))
    return found


def test_the_rows_are_the_services(client, project, db_session) -> None:  # type: ignore[no-untyped-def]
    response = client.get(URL + "?min_rel_change=0.01,0.05&alpha=0.01")
    assert response.status_code == 200, response.json
    expected = backtest(
        db_session,
        project,
        candidates(project, sets=["alpha=0.01"], grid=["min_rel_change=0.01,0.05"]),
    )
    assert response.json == {
        "project": "proj",
        "rows": [row_out(row).model_dump() for row in expected],
    }
    current, lower, higher = response.json["rows"]
    assert [r["label"] for r in (current, lower, higher)] == [
        "current",
        "alpha=0.01, min_rel_change=0.01",
        "alpha=0.01, min_rel_change=0.05",
    ]
    assert higher["dropped"]["invalid"] == 1 and higher["precision"] == 1.0
    assert higher["assignments"] == ["detector.alpha=0.01", "detector.min_rel_change=0.05"]
    assert lower["new"] == 1 and current["raised"] == 4


def test_a_single_value_is_one_candidate(client, project) -> None:  # type: ignore[no-untyped-def]
    rows = client.get(URL + "?min_rel_change=0.05").json["rows"]
    assert [(r["label"], r["raised"], r["kept_total"]) for r in rows] == [
        ("current", 4, 4),
        ("min_rel_change=0.05", 3, 3),
    ]


def test_private_projects_need_their_read_token(client, db_session) -> None:  # type: ignore[no-untyped-def]
    hidden = make_project(db_session, "proj", public=False)
    read = make_token(db_session, hidden, "read")
    assert client.get(URL).status_code == 404
    answer = client.get(URL, headers={"Authorization": f"Bearer {read}"})
    assert answer.status_code == 200
    assert answer.json["rows"][0]["label"] == "current"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("machines=a", "machines is not a detector setting"),
        ("min_rel_change=-1", "detector.min_rel_change"),
        ("min_rel_change=0.01,oops", "detector.min_rel_change"),
        ("alpha=0.01&alpha=0.02", "give alpha once"),
        ("alpha=" + "1" * 300, "at most 200 characters"),
        ("alpha=0.01,0.02,0.03,0.04&min_segment=3,4,5,6", "at most 12"),
        ("min_rel_change=", "KEY=VALUE"),
    ],
)
def test_bad_parameters_are_400(client, project, db_connection, query, message) -> None:  # type: ignore[no-untyped-def]
    before = table_counts(db_connection)
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_parameter"
    assert message in response.json["error"]["message"]
    assert table_counts(db_connection) == before


def test_openapi_describes_the_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/projects/{project}/backtest"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"project", "min_rel_change", "alpha", "min_segment"} <= names
    assert "security" not in operation  # read access, like the other GETs
    assert "400" in operation["responses"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/BacktestOut"}
    row = document["components"]["schemas"]["BacktestRowOut"]
    assert {"kept", "dropped", "new", "precision", "recall"} <= set(row["properties"])
