"""Limits checked once at the boundary: the same 4xx on SQLite and PostgreSQL.

Each input here used to reach the database (or Python's own limits) and end in
a 500 on one engine or both: integers past a column's range, timestamps whose
conversion to UTC leaves the calendar, text past a column's length, JSON nested
deeper than anything parses, and digits that are digits only in Unicode.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES
from tests.factories import make_project, make_token
from tests.reliability.test_malformed_inputs import database_checksum
from web.models import Job, Project

GOOD = (FIXTURES / "pytest-benchmark" / "pytest-benchmark.json").read_bytes()
SHA = "d" * 40
HUGE = 2**64
DEEP = 10_000


def _native(record: dict[str, object] | None = None, **run: object) -> bytes:
    base = {"suite": "s", "name": "b", "measure": "time", "unit": "s", "value": 1.0}
    doc = {"format": "custom", "runs": [{"results": [base | (record or {})], **run}]}
    return json.dumps(doc).encode()


def _with_stat(field: str, token: str) -> bytes:
    doc = json.loads(GOOD)
    doc["benchmarks"][0]["stats"][field] = "__TOKEN__"
    return json.dumps(doc).replace('"__TOKEN__"', token).encode()


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.fixture()
def token(client, db_session: Session) -> str:  # type: ignore[no-untyped-def]
    secret = make_token(db_session, make_project(db_session, "proj"))
    first = _post(client, secret, GOOD, {"commit": "a" * 40})
    assert first.status_code == 201, first.json
    return secret


def _post(client, token: str, data: bytes, metadata: dict[str, object] | str):  # type: ignore[no-untyped-def]
    if not isinstance(metadata, str):
        metadata = json.dumps({"project": "proj", "commit": SHA, "branch": "main"} | metadata)
    return client.post(
        "/api/v1/runs",
        data={"file": (io.BytesIO(data), "r.json"), "metadata": metadata},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def _refused(response, connection: Connection, before: str, status: int = 422) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    if response.mimetype == "application/json":
        assert response.json["error"]["code"]
    assert database_checksum(connection) == before


METADATA: dict[str, dict[str, object]] = {
    "pr_number past 64 bits": {"pr_number": HUGE},
    "pr_number past 32 bits": {"pr_number": 2**31},
    "job_id past 64 bits": {"job_id": HUGE},
    "cores past 64 bits": {"machine": {"name": "m", "cores": HUGE}},
    "cores past 32 bits": {"machine": {"name": "m", "cores": 2**31}},
    "negative cores": {"machine": {"name": "m", "cores": -4}},
    "memory past 64 bits": {"machine": {"name": "m", "memory_bytes": HUGE}},
    "negative memory": {"machine": {"name": "m", "memory_bytes": -1}},
    "cpu_model over 500": {"machine": {"name": "m", "cpu_model": "c" * 501}},
    "os over 500": {"machine": {"name": "m", "os": "o" * 501}},
    "python over 200": {"machine": {"name": "m", "python": "p" * 201}},
    "environment over 500": {"environment": "e" * 501},
    "machine.extra nested 17 deep": {"machine": {"name": "m", "extra": _nested(17)}},
    "commit_time before year 1 in UTC": {"commit_time": "0001-01-01T00:30:00+01:00"},
    "started_at after year 9999 in UTC": {"started_at": "9999-12-31T23:30:00-01:00"},
    "finished_at before year 1 in UTC": {"finished_at": "0001-01-01T00:00:00+00:01"},
    "negative duration": {
        "started_at": "2024-01-01T10:00:00Z",
        "finished_at": "2024-01-01T09:59:59Z",
    },
}


@pytest.mark.parametrize("label", sorted(METADATA))
def test_metadata_past_a_limit_is_refused(client, token, db_connection, label) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    _refused(_post(client, token, GOOD, METADATA[label]), db_connection, before)


_HEAD = f'"project": "proj", "commit": "{SHA}"'
RAW_METADATA: dict[str, str] = {
    "NaN in machine.extra": f'{{{_HEAD}, "machine": {{"name": "m", "extra": {{"x": NaN}}}}}}',
    "Infinity in machine.extra": (
        f'{{{_HEAD}, "machine": {{"name": "m", "extra": {{"x": [-Infinity]}}}}}}'
    ),
    "duplicate keys": f'{{{_HEAD}, "commit": "{"e" * 40}"}}',
    "nested 10,000 deep": f'{{{_HEAD}, "x": {"[" * DEEP + "]" * DEEP}}}',
    "machine.extra nested 900 deep": json.dumps(
        {"project": "proj", "commit": SHA, "machine": {"name": "m", "extra": _nested(900)}}
    ),
    "integer of 5,000 digits": f'{{{_HEAD}, "pr_number": {"9" * 5000}}}',
}


@pytest.mark.parametrize("label", sorted(RAW_METADATA))
def test_metadata_json_past_a_limit_is_refused(client, token, db_connection, label) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    response = _post(client, token, GOOD, RAW_METADATA[label])
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:400]
    _refused(response, db_connection, before, response.status_code)


FILES = {
    "stats.rounds past 64 bits": lambda: _with_stat("rounds", str(HUGE)),
    "stats.rounds past 32 bits": lambda: _with_stat("rounds", str(2**31)),
    "negative mean in seconds": lambda: _with_stat("mean", "-0.5"),
    "negative stddev": lambda: _with_stat("stddev", "-0.1"),
    "negative duration value": lambda: _native({"value": -1.0}),
    "negative duration sample": lambda: _native({"samples": [1.0, -1.0]}),
    "negative byte count": lambda: _native({"unit": "B", "measure": "rss", "value": -5.0}),
    "suite over 500": lambda: _native({"suite": "s" * 501}),
    "params over 2,000 as stored": lambda: _native({"params": {"p": "v" * 2000}}),
    "native format over 50": lambda: _native().replace(b'"custom"', b'"' + b"f" * 51 + b'"'),
    "native environment over 500": lambda: _native(environment="e" * 501),
    "native started_at after year 9999 in UTC": lambda: _native(
        started_at="9999-12-31T23:30:00-01:00"
    ),
    "native machine.extra with NaN": lambda: _native(
        machine={"name": "m", "extra": {"x": "__NAN__"}}
    ).replace(b'"__NAN__"', b"NaN"),
    "native machine cpu_model over 500": lambda: _native(
        machine={"name": "m", "cpu_model": "c" * 501}
    ),
}


@pytest.mark.parametrize("label", sorted(FILES))
def test_file_past_a_limit_is_refused(client, token, db_connection, label) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    _refused(_post(client, token, FILES[label](), {}), db_connection, before)


def test_negative_values_of_other_units_are_kept(client, token) -> None:  # type: ignore[no-untyped-def]
    """A custom measure (a delta, a score) may be negative; only durations and sizes may not."""
    body = _native({"unit": "points", "measure": "delta", "value": -3.0, "samples": [-3.0]})
    assert _post(client, token, body, {}).status_code == 201


def test_limits_at_the_edge_are_accepted(client, token) -> None:  # type: ignore[no-untyped-def]
    body = _native({"suite": "s" * 500, "params": {"p": "v" * 1000}, "value": 0.0})
    metadata = {
        "pr_number": 2**31 - 1,
        "machine": {
            "name": "m",
            "cores": 2**31 - 1,
            "memory_bytes": 2**63 - 1,
            "cpu_model": "c" * 500,
            "extra": _nested(16),
        },
        "commit_time": "0001-01-01T00:30:00+00:00",
        "started_at": "9999-12-31T23:30:00+00:00",
        "finished_at": "9999-12-31T23:30:00+00:00",
        "environment": "e" * 500,
    }
    response = _post(client, token, body, metadata)
    assert response.status_code == 201, response.json


QUERIES = [
    f"/api/v1/projects/proj/series?benchmark_id={HUGE}",
    "/api/v1/projects/proj/series?benchmark_id=%C2%B2",
    "/api/v1/projects/proj/jobs?limit=%C2%B2",
    f"/api/v1/projects/proj/jobs?limit={HUGE}",
    "/api/v1/projects/proj/jobs?limit=%EF%BC%91",
]


@pytest.mark.parametrize("url", QUERIES)
def test_query_integers_are_ascii_and_bounded(client, token, url) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    "url",
    [
        "/p/proj/benchmarks?page=%C2%B2",
        f"/p/proj/benchmarks?page={HUGE}",
        f"/p/proj/compare?kind=runs&baseline={HUGE}&candidate=1",
        "/p/proj/compare?kind=runs&baseline=%C2%B2&candidate=1",
    ],
)
def test_dashboard_integers_never_fail(client, token, url) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code < 500, url


@pytest.fixture()
def job_id(token, db_session: Session) -> int:  # type: ignore[no-untyped-def]
    project = db_session.scalar(select(Project).where(Project.name == "proj"))
    assert project is not None
    job = Job(project_id=project.id, commit_sha=SHA, machine="m")
    db_session.add(job)
    db_session.commit()
    return job.id


@pytest.mark.parametrize("run_id", [HUGE, 2**63, 999_999], ids=["2**64", "2**63", "unknown"])
def test_job_state_naming_a_run_it_cannot_store_is_refused(client, token, job_id, run_id) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/api/v1/jobs/{job_id}/state",
        json={"state": "done", "run_ids": {SHA: run_id}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["error"]["code"] == "invalid_state"


DEEP_JSON = b"[" * DEEP + b"]" * DEEP


@pytest.mark.parametrize(
    "path, api",
    [
        ("/api/v1/jobs/1/state", True),
        ("/api/v1/projects/proj", True),
        ("/webhooks/github", True),
        ("/login", False),
        ("/p/proj/alerts/1/triage.json", False),
    ],
)
def test_deep_json_body_is_refused_before_parsing(client, token, path, api) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        path,
        data=DEEP_JSON,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    if api:
        assert response.json["error"]["code"] == "too_deep"
