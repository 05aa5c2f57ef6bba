"""Idempotency keys: a retry gets the stored run, a reused key with other content a 409.

The concurrent case runs over real HTTP against gunicorn on PostgreSQL, where
two transactions can both miss a key and race to its unique constraint (it
used to answer 500 to every loser).
"""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import _pg_url
from tests.factories import make_project, make_token, native_results
from tests.support.servers import GunicornServer, PostgresServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Run
from web.services.projects import create_project
from web.services.tokens import create_token

THREADS = 16
KEYS = 12
FILE = native_results({"a": 1.0, "b": 2.0})


def _metadata(commit: str, key: str, **extra: object) -> str:
    fields = {"project": "p", "commit": commit, "format": "benchwarden", "idempotency_key": key}
    return json.dumps(fields | extra)


def _post(url: str, token: str, metadata: str, data: bytes = FILE) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/runs",
        files={"file": ("r.json", data)},
        data={"metadata": metadata},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )


@pytest.fixture()
def pg_gunicorn(pg_server: PostgresServer | None, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    url = _pg_url(pg_server, "bw_idempotency")
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = create_token(session, create_project(session, "p"), "write").secret
    engine.dispose()
    env = {
        "BENCHWARDEN_DATABASE_URL": url,
        "BENCHWARDEN_DATA_DIR": str(tmp_path),
        "BENCHWARDEN_SECRET_KEY": "i",
        "BENCHWARDEN_EAGER_TASKS": "true",
    }
    web = GunicornServer(env, workers=2, threads=8).start()
    try:
        yield web.url, token, url
    finally:
        web.stop()


def test_concurrent_reuse_of_keys_stores_one_run_each(pg_gunicorn) -> None:  # type: ignore[no-untyped-def]
    base, token, db_url = pg_gunicorn
    start = threading.Barrier(THREADS)
    answers: list[tuple[int, int, int | None]] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        for key in range(KEYS):
            response = _post(base, token, _metadata(f"{key + 1:040x}", f"k{key}"))
            run_id = response.json().get("run", {}).get("id") if response.ok else None
            with lock:
                answers.append((key, response.status_code, run_id))

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    statuses = Counter(status for _, status, _ in answers)
    print(f"\n{len(answers)} uploads of {KEYS} shared keys by {THREADS} clients: {dict(statuses)}")
    assert len(answers) == THREADS * KEYS
    assert set(statuses) <= {200, 201}, statuses
    assert statuses[201] == KEYS
    for key in range(KEYS):
        assert len({run for k, _, run in answers if k == key}) == 1, f"key k{key}: several runs"
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Run)) == KEYS
    engine.dispose()
    # The same key with another commit is a conflict naming the stored run.
    stored = next(run for k, status, run in answers if k == 0 and status == 201)
    conflict = _post(base, token, _metadata("f" * 40, "k0"))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert conflict.json()["error"]["details"]["run_id"] == stored


def _post_client(client, token: str, metadata: str, data: bytes = FILE):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/runs",
        data={"file": (io.BytesIO(data), "r.json"), "metadata": metadata},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


@pytest.fixture()
def token(db_session: Session) -> str:
    return make_token(db_session, make_project(db_session, "p"))


def test_retry_with_the_same_content_gets_the_stored_run(client, token) -> None:  # type: ignore[no-untyped-def]
    first = _post_client(client, token, _metadata("a" * 40, "same"))
    again = _post_client(client, token, _metadata("a" * 40, "same"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["run"]["id"] == first.json["run"]["id"]
    assert again.json["created"] is False


@pytest.mark.parametrize(
    "change",
    [
        {"commit": "b" * 40},
        {"machine": {"name": "other-box"}},
        {"file": native_results({"a": 1.5, "b": 2.0})},
    ],
    ids=["commit", "machine", "file"],
)
def test_reused_key_with_other_content_is_a_conflict(client, token, change) -> None:  # type: ignore[no-untyped-def]
    first = _post_client(client, token, _metadata("a" * 40, "reused"))
    assert first.status_code == 201
    fields = dict(change)  # the parameter is shared by both engines' runs
    data = fields.pop("file", FILE)
    commit = fields.pop("commit", "a" * 40)
    second = _post_client(client, token, _metadata(commit, "reused", **fields), data)
    assert second.status_code == 409, second.json
    error = second.json["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["details"]["run_id"] == first.json["run"]["id"]
    assert str(first.json["run"]["id"]) in error["message"]


def test_a_redelivered_job_measuring_again_gets_its_stored_run(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    """A runner job's key stands for the job: new measurements are the same submission."""
    from web.models import Job

    job = Job(project_id=make_project(db_session, "q").id, commit_sha="a" * 40, machine="m")
    db_session.add(job)
    db_session.commit()
    first = _post_client(client, token, _metadata("a" * 40, "job-7", job_id=job.id))
    remeasured = native_results({"a": 1.1, "b": 2.2})
    again = _post_client(client, token, _metadata("a" * 40, "job-7", job_id=job.id), remeasured)
    assert (first.status_code, again.status_code) == (201, 200), again.json
    assert again.json["run"]["id"] == first.json["run"]["id"]
