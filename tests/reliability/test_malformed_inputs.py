"""A corpus of bad submissions: each gets a 4xx envelope and leaves the database unchanged.

"Unchanged" is checked by row counts and a checksum of every row of every table,
on SQLite and PostgreSQL, after a known-good run has been stored first.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES
from tests.factories import make_project, make_token
from web.models import Base

GOOD = (FIXTURES / "pytest-benchmark" / "pytest-benchmark.json").read_bytes()
SHA = "c" * 40
NUMERIC_STATS = ("min", "max", "mean", "stddev", "median", "q1", "q3", "ops", "rounds", "iqr")


def database_checksum(connection: Connection) -> str:
    """SHA-256 over every row of every table in primary-key order."""
    digest = hashlib.sha256()
    for name, table in sorted(Base.metadata.tables.items()):
        rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{name}:{len(rows)}:".encode())
        for row in rows:
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _with_stat(field: str, token: str) -> bytes:
    """GOOD with one stats field of the first benchmark replaced by a bare token."""
    doc = json.loads(GOOD)
    doc["benchmarks"][0]["stats"][field] = "__TOKEN__"
    return json.dumps(doc).replace('"__TOKEN__"', token).encode()


def _duplicate_keys() -> bytes:
    text = GOOD.decode()
    return text.replace('"benchmarks":', '"benchmarks": [], "benchmarks":', 1).encode()


BODIES: dict[str, Callable[[], bytes]] = {
    "truncated": lambda: GOOD[: len(GOOD) // 2],
    "truncated to one byte": lambda: GOOD[:1],
    "wrong type for benchmarks": lambda: b'{"benchmarks": "fast", "machine_info": {}}',
    "wrong type for stats": lambda: GOOD.replace(b'"stats": {', b'"stats": 7, "x": {', 1),
    "top-level array of numbers": lambda: b"[1, 2, 3]",
    "deep nesting": lambda: b"[" * 200_000 + b"]" * 200_000,
    "invalid UTF-8": lambda: GOOD.replace(b"test_", b"test_\xff\xfe", 1),
    "NUL bytes": lambda: b"\x00" * 1024,
    "duplicated keys": _duplicate_keys,
    "NUL character in a benchmark name": lambda: GOOD.replace(b'"name": "', b'"name": "\\u0000', 1),
    "gzip bomb": lambda: gzip.compress(b"[" + b" " * (300 * 1024 * 1024), compresslevel=9),
    "corrupt gzip": lambda: gzip.compress(GOOD)[:-20],
    "empty JSON object": lambda: b"{}",
    "native format with NaN value": lambda: (
        json.dumps(
            {
                "format": "x",
                "runs": [
                    {"results": [{"name": "a", "measure": "time", "unit": "s", "value": "NaN"}]}
                ],
            }
        )
        .replace('"NaN"', "NaN")
        .encode()
    ),
}
for _field in NUMERIC_STATS:
    for _token in ("NaN", "Infinity", "-Infinity"):
        BODIES[f"{_token} in stats.{_field}"] = lambda f=_field, t=_token: _with_stat(f, t)

METADATA: dict[str, dict[str, object]] = {
    "pr_number not a number": {"pr_number": "seven"},
    "negative pr_number": {"pr_number": -1},
    "commit not hex": {"commit": "zzzzzzzz"},
    "parents not a list": {"parents": "abc"},
    "parent not a sha": {"parents": ["not-a-sha"]},
    "machine wrong type": {"machine": ["box"]},
    "unknown field": {"colour": "blue"},
    "commit_time not a time": {"commit_time": "yesterday"},
    "NaN machine cores": {"machine": {"name": "m", "cores": float("nan")}},
    "huge branch name": {"branch": "b" * 10_000},
    "NUL in the project name": {"project": "pr\x00oj"},
    "NUL in the branch": {"branch": "ma\x00in"},
    "NUL in the machine name": {"machine": {"name": "m\x00"}},
    "NUL in a machine detail": {"machine": {"name": "m", "extra": {"k": "v\x00"}}},
}


@pytest.fixture()
def seeded(client, db_session: Session) -> str:  # type: ignore[no-untyped-def]
    token = make_token(db_session, make_project(db_session, "proj"))
    response = _post(client, token, GOOD, {"commit": "a" * 40})
    assert response.status_code == 201
    return token


def _post(client, token: str, data: bytes, metadata: dict[str, object]):  # type: ignore[no-untyped-def]
    fields = {"project": "proj", "commit": SHA, "branch": "main"} | metadata
    return client.post(
        "/api/v1/runs",
        data={"file": (io.BytesIO(data), "r.json"), "metadata": json.dumps(fields)},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def _assert_rejected_without_change(response, connection: Connection, before: str) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    error = response.json["error"]
    assert error["code"] and error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert database_checksum(connection) == before


@pytest.mark.parametrize("label", sorted(BODIES))
def test_bad_file_is_rejected(client, seeded, db_connection, label) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    _assert_rejected_without_change(
        _post(client, seeded, BODIES[label](), {}), db_connection, before
    )


@pytest.mark.parametrize("label", sorted(METADATA))
def test_bad_metadata_is_rejected(client, seeded, db_connection, label) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    response = _post(client, seeded, GOOD, METADATA[label])
    _assert_rejected_without_change(response, db_connection, before)


def test_metadata_that_is_not_json(client, seeded, db_connection) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    response = client.post(
        "/api/v1/runs",
        data={"file": (io.BytesIO(GOOD), "r.json"), "metadata": "{not json"},
        headers={"Authorization": f"Bearer {seeded}"},
        content_type="multipart/form-data",
    )
    _assert_rejected_without_change(response, db_connection, before)


def test_100_mb_body_is_refused(client, seeded, db_connection) -> None:  # type: ignore[no-untyped-def]
    before = database_checksum(db_connection)
    body = b" " * (100 * 1024 * 1024)
    response = client.post(
        f"/api/v1/runs?project=proj&commit={SHA}",
        data=body,
        headers={"Authorization": f"Bearer {seeded}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    _assert_rejected_without_change(response, db_connection, before)


@pytest.mark.parametrize(
    "method, url",
    [
        ("POST", f"/api/v1/runs?project=pr%00oj&commit={SHA}"),
        ("GET", "/api/v1/projects/pr%00oj/benchmarks"),
        ("GET", "/api/v1/projects/proj/benchmarks?search=a%00b"),
    ],
)
def test_nul_in_path_or_query_is_refused(client, seeded, db_connection, method, url) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL cannot hold NUL in text: refused whole, with the envelope."""
    before = database_checksum(db_connection)
    response = client.open(
        url, method=method, data=GOOD, headers={"Authorization": f"Bearer {seeded}"}
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "nul_character"
    _assert_rejected_without_change(response, db_connection, before)


@pytest.mark.parametrize("path", ["/api/v1/projects", "/p/proj/alerts", "/"])
def test_a_query_string_that_is_not_utf8_is_refused(client, seeded, path) -> None:  # type: ignore[no-untyped-def]
    """Raw bytes that are not UTF-8 (not percent-encoded) reached Werkzeug's strict
    decoding of ``request.args`` and answered 500 on every page."""
    response = client.get(path, environ_overrides={"QUERY_STRING": "q=\xff\xfe"})
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "bad_encoding"
    else:
        assert b"UTF-8" in response.data
