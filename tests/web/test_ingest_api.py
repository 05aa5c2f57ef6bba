"""The ingest API on both engines: happy paths, idempotency, auth and every bad input."""

from __future__ import annotations

import io
import json
import time

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES, table_counts
from tests.factories import make_project, make_token
from web.models import Result, Run

PYTEST_FILE = FIXTURES / "pytest-benchmark" / "pytest-benchmark.json"
SHA = "a" * 40


def _post(client, token: str | None, data: bytes, **metadata):  # type: ignore[no-untyped-def]
    fields = {"project": "proj", "commit": SHA, "branch": "main"} | metadata
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/api/v1/runs",
        data={"file": (io.BytesIO(data), "results.json"), "metadata": json.dumps(fields)},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.fixture()
def token(db_session: Session) -> str:
    return make_token(db_session, make_project(db_session, "proj"))


def test_post_pytest_benchmark_file_stores_a_run(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, token, PYTEST_FILE.read_bytes(), pr_number=7, ci_url="https://ci/1")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["created"] is True
    assert body["run"]["source_format"] == "pytest-benchmark"
    assert body["run"]["result_count"] == 7
    assert body["run"]["pr_number"] == 7
    assert body["run"]["url"] == f"http://bw.test/runs/{body['run']['id']}"
    values = db_session.scalars(select(Result.value).where(Result.run_id == body["run"]["id"]))
    # test_sleep_ms sleeps 2 ms: its mean is stored in seconds (not 2e6 ns or 2 ms).
    assert any(0.002 <= v < 0.5 for v in values)


def test_raw_body_with_query_metadata(client, token) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/api/v1/runs?project=proj&commit={SHA}&branch=main&machine=box1&parents={'b' * 40}",
        data=PYTEST_FILE.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.json
    assert response.json["run"]["machine"]["name"] == "box1"


def test_raw_body_sent_as_curl_sends_it_by_default(client, token) -> None:  # type: ignore[no-untyped-def]
    """`curl --data-binary @file` labels the body application/x-www-form-urlencoded;
    the upload path must read it as the file, not parse it as a form."""
    response = client.post(
        f"/api/v1/runs?project=proj&commit={SHA}",
        data=PYTEST_FILE.read_bytes(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 201, response.json


def test_same_idempotency_key_stores_one_run(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    first = _post(client, token, PYTEST_FILE.read_bytes(), idempotency_key="job-1")
    second = _post(client, token, PYTEST_FILE.read_bytes(), idempotency_key="job-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["created"] is False
    assert second.json["run"]["id"] == first.json["run"]["id"]
    assert len(db_session.scalars(select(Run)).all()) == 1


def test_series_follow_first_parent_order(client, token) -> None:  # type: ignore[no-untyped-def]
    shas = [f"{i:040x}" for i in range(1, 5)]
    # Submitted out of order: the child of the first commit before the third.
    order = [0, 1, 3, 2]
    for i in order:
        parents = [shas[i - 1]] if i else []
        response = _post(client, token, PYTEST_FILE.read_bytes(), commit=shas[i], parents=parents)
        assert response.status_code == 201
    series = client.get("/api/v1/projects/proj/series").json["series"]
    assert len(series) == 7
    detail = client.get(f"/api/v1/projects/proj/series/{series[0]['id']}").json
    assert detail["points"]["sha"] == shas
    assert detail["series"]["unit"] == "s"
    assert detail["series"]["direction"] == "lower_is_better"


def test_read_endpoints(client, token) -> None:  # type: ignore[no-untyped-def]
    run_id = _post(client, token, PYTEST_FILE.read_bytes()).json["run"]["id"]
    assert [p["name"] for p in client.get("/api/v1/projects").json["projects"]] == ["proj"]
    assert client.get("/api/v1/projects/proj").json["default_branch"] == "main"
    names = {b["name"] for b in client.get("/api/v1/projects/proj/benchmarks").json["benchmarks"]}
    assert "test_sleep_ms" in names
    run = client.get(f"/api/v1/projects/proj/runs/{run_id}").json
    assert run["run"]["commit"] == SHA
    assert len(run["results"]) == 7


def test_openapi_document_lists_the_routes(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "post" in document["paths"]["/api/v1/runs"]
    assert "/api/v1/projects/{project}/series/{series_id}" in document["paths"]
    assert "RunCreated" in document["components"]["schemas"]


BAD_CASES = [
    ("malformed JSON", b'{"benchmarks": [', {}, 422, "unparseable_file"),
    ("unknown format", b"just some text\n", {}, 422, "unparseable_file"),
    ("missing commit", None, {"commit": ""}, 422, "missing_commit"),
    ("bad commit", None, {"commit": "not-a-sha"}, 422, "invalid_metadata"),
    ("unknown project", None, {"project": "nope"}, 404, "project_not_found"),
    ("empty file", b"", {}, 400, "empty_body"),
]


@pytest.mark.parametrize(("label", "data", "metadata", "status", "code"), BAD_CASES)
def test_bad_submissions_change_nothing(  # type: ignore[no-untyped-def]
    client, token, db_connection: Connection, label, data, metadata, status, code
) -> None:
    before = table_counts(db_connection)
    response = _post(client, token, PYTEST_FILE.read_bytes() if data is None else data, **metadata)
    assert response.status_code == status, (label, response.json)
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert table_counts(db_connection) == before


def test_body_over_the_limit_is_413(app, client, token, db_connection) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    before = table_counts(db_connection)
    response = _post(client, token, b" " * 20_000)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert table_counts(db_connection) == before


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer bw_wrong", 401), ("Basic abc", 401)],
)
def test_missing_or_wrong_token(client, token, db_connection, header, status) -> None:  # type: ignore[no-untyped-def]
    before = table_counts(db_connection)
    headers = {"Authorization": header} if header else {}
    response = client.post(
        f"/api/v1/runs?project=proj&commit={SHA}", data=PYTEST_FILE.read_bytes(), headers=headers
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == "unauthorized"
    assert "bw_wrong" not in response.get_data(as_text=True)
    assert table_counts(db_connection) == before


def test_revoked_token_fails_at_once(client, token, db_session, db_connection) -> None:  # type: ignore[no-untyped-def]
    from web.services.tokens import find_token, revoke_token

    revoke_token(db_session, find_token(db_session, token).id)  # type: ignore[union-attr]
    db_session.commit()
    before = table_counts(db_connection)
    response = _post(client, token, PYTEST_FILE.read_bytes())
    assert response.status_code == 401
    assert table_counts(db_connection) == before


def test_token_of_another_project_is_403(client, token, db_session, db_connection) -> None:  # type: ignore[no-untyped-def]
    other = make_token(db_session, make_project(db_session, "other"))
    before = table_counts(db_connection)
    response = _post(client, other, PYTEST_FILE.read_bytes())
    assert response.status_code == 403
    assert "proj" in response.json["error"]["message"]
    assert table_counts(db_connection) == before


def test_read_scope_cannot_write(client, token, db_session, db_connection) -> None:  # type: ignore[no-untyped-def]
    from web.services.projects import find_project

    reader = make_token(db_session, find_project(db_session, "proj"), "read")  # type: ignore[arg-type]
    before = table_counts(db_connection)
    response = _post(client, reader, PYTEST_FILE.read_bytes())
    assert response.status_code == 403
    assert table_counts(db_connection) == before


def test_private_project_needs_a_read_token(client, db_session) -> None:  # type: ignore[no-untyped-def]
    private = make_project(db_session, "secret", public=False)
    hidden = client.get("/api/v1/projects/secret")
    assert hidden.status_code == 404 and hidden.json == client.get("/api/v1/projects/nope").json
    reader = make_token(db_session, private, "read")
    ok = client.get("/api/v1/projects/secret", headers={"Authorization": f"Bearer {reader}"})
    assert ok.status_code == 200
    listed = client.get("/api/v1/projects").json["projects"]
    assert "secret" not in [p["name"] for p in listed]


def test_only_the_hash_is_stored(db_session, token) -> None:  # type: ignore[no-untyped-def]
    from web.models import ApiToken

    stored = db_session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64


def test_unknown_route_gets_the_envelope(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_series_read_revalidates_its_cache(client, token) -> None:  # type: ignore[no-untyped-def]
    _post(client, token, PYTEST_FILE.read_bytes(), commit="1" * 40)
    series_id = client.get("/api/v1/projects/proj/series").json["series"][0]["id"]
    url = f"/api/v1/projects/proj/series/{series_id}"
    first = client.get(url)
    assert len(first.json["points"]["sha"]) == 1
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    _post(client, token, PYTEST_FILE.read_bytes(), commit="2" * 40, parents=["1" * 40])
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.json["points"]["sha"] == ["1" * 40, "2" * 40]


def test_failed_authentication_is_throttled(app, client, token) -> None:  # type: ignore[no-untyped-def]
    from web.api.ratelimit import FailedAuthLimiter

    shared = app.extensions["benchwarden.auth_limiter"].limiter
    app.extensions["benchwarden.auth_limiter"] = FailedAuthLimiter(shared, limit=3, window=60)
    bad = {"Authorization": "Bearer bw_guess"}
    statuses = [client.get("/api/v1/projects/proj", headers=bad).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    throttled = client.get("/api/v1/projects/proj", headers=bad)
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json["error"]["code"] == "too_many_failures"
    # The owner of a real token is not locked out by someone else's guessing.
    good = client.get("/api/v1/projects/proj", headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200


def test_limiter_forgets_old_failures(app) -> None:  # type: ignore[no-untyped-def]
    from web.api.ratelimit import FailedAuthLimiter

    limiter = FailedAuthLimiter(app.extensions["benchwarden.auth_limiter"].limiter, 2, window=1)
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after("a") == 1 and limiter.retry_after("b") == 0
    time.sleep(1.5)  # the window is one second: both failures have left it
    assert limiter.retry_after("a") == 0


def test_a_long_non_ascii_log_in_the_metadata_is_stored(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    """The longest log tail a runner sends, in non-ASCII text, is 1.2 MB of JSON:
    more than werkzeug's default for one form field, stored all the same. (The
    multipart body is built here: the test client would spool one this large to
    a temporary file that it never closes.)"""
    log = "ñ" * 200_000
    metadata = json.dumps({"project": "proj", "commit": SHA, "branch": "main", "log": log})
    boundary = "b0undary"
    body = b"".join(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'.encode(),
            metadata.encode(),
            f"\r\n--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="results.json"\r\n\r\n',
            PYTEST_FILE.read_bytes(),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )
    response = client.post(
        "/api/v1/runs",
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    run = db_session.get(Run, response.json["run"]["id"])
    assert run is not None and run.log == log
