"""``GET``/``PUT /api/v1/projects/<p>/suites``: the project's stored suite declaration."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import make_project, make_token
from tests.integration.gitrepo import WRITE_RESULT, command_suite
from web.models import Project

GOOD = command_suite(WRITE_RESULT)


def _put(client, token: str | None, body: str | bytes):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/toml"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.put("/api/v1/projects/proj/suites", data=body, headers=headers)


def test_put_needs_an_admin_token_and_refuses_bad_toml(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    admin = make_token(db_session, project, "admin")
    write = make_token(db_session, project, "write")
    assert _put(client, None, GOOD).status_code == 401
    assert _put(client, write, GOOD).status_code == 403
    bad = _put(client, admin, "[suites.a\nkind = 1\n")
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "invalid_suites"
    assert bad.json["error"]["message"].startswith("not valid TOML")
    wrong = _put(client, admin, '[suites.a]\nkind = "nope"\n')
    assert wrong.status_code == 422 and "suites.a.kind" in wrong.json["error"]["message"]
    assert _put(client, admin, b"\xff\xfe").status_code == 422
    assert (
        _put(client, admin, "[suites.a]\nkind = 'command'\ncommand = 'a\x00'\n").status_code == 422
    )
    db_session.expire_all()
    assert db_session.get(Project, project.id).suites_config is None

    stored = _put(client, admin, GOOD)
    assert stored.status_code == 200
    assert stored.json == {"project": "proj", "suites_config": GOOD, "suites_source": "commit"}
    assert client.get("/api/v1/projects/proj/suites").json["suites_config"] == GOOD
    assert _put(client, admin, "").json["suites_config"] is None


def test_the_openapi_document_describes_the_suites_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").json["paths"]
    operations = paths["/api/v1/projects/{project}/suites"]
    assert set(operations) == {"get", "put"}
    assert "text/plain" in operations["put"]["requestBody"]["content"]
    assert operations["put"]["security"] == [{"bearer": []}]
    assert "422" in operations["put"]["responses"]
