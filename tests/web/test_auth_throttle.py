"""Failed bearer authentication is throttled on the API and the dashboard alike,
in storage shared by every app process (issue 14, finding 8 and Deliver 9).

Over real HTTP: 30 made-up tokens in a row get 429 with ``Retry-After`` after
the 20th failure, on dashboard pages as on API routes, while a valid token
from the same address still passes. With the broker's Redis as storage, two
app processes count one client's failures together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.conftest import LiveServer, _pg_url
from tests.factories import make_project, make_token
from tests.support.servers import GunicornServer, RedisServer
from web.config import Settings
from web.migrations import upgrade

BAD = {"Authorization": "Bearer bw_made_up_token"}
LIMIT = 20


def seed(url: str) -> str:
    """A public project ``proj``; returns a valid read token of it."""
    engine = create_engine(url)
    with Session(engine) as session:
        project = make_project(session)
        token = make_token(session, project, "read")
    engine.dispose()
    return token


def statuses(base: str, path: str, count: int) -> list[requests.Response]:
    with requests.Session() as http:
        return [http.get(base + path, headers=BAD, timeout=10) for _ in range(count)]


@pytest.mark.parametrize("path", ["/p/proj/alerts", "/p/proj/", "/api/v1/projects/proj"])
def test_thirty_bad_tokens_get_429(live_server: LiveServer, live_database: str, path: str) -> None:
    token = seed(live_database)
    answers = statuses(live_server.url, path, 30)
    codes = [a.status_code for a in answers]
    assert 429 not in codes[:LIMIT], codes
    assert codes[LIMIT:] == [429] * (30 - LIMIT), codes
    throttled = answers[-1]
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.json()["error"]["code"] == "too_many_failures"
    # The owner of a real token is never locked out by someone else's guessing.
    good = {"Authorization": f"Bearer {token}"}
    assert requests.get(live_server.url + path, headers=good, timeout=10).status_code == 200


@pytest.fixture()
def redis() -> Iterator[RedisServer]:
    server = RedisServer().start(appendonly=False)
    try:
        yield server
    finally:
        server.stop()


def test_two_app_processes_share_the_count(
    redis: RedisServer, live_database: str, tmp_path: Path
) -> None:
    seed(live_database)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path,
        database_url=live_database,
        secret_key="t",
        eager_tasks=True,
        broker_url=redis.url,
    )
    with LiveServer(settings) as first, LiveServer(settings) as second:
        half = LIMIT // 2
        assert {a.status_code for a in statuses(first.url, "/p/proj/alerts", half)} == {200}
        assert {a.status_code for a in statuses(second.url, "/api/v1/projects/proj", half)} == {401}
        # Each process saw only 10 failures, but together they reached the limit.
        assert statuses(first.url, "/api/v1/projects/proj", 1)[0].status_code == 429
        assert statuses(second.url, "/p/proj/alerts", 1)[0].status_code == 429


@pytest.mark.slow
@pytest.mark.postgres
def test_gunicorn_workers_share_the_count(redis: RedisServer, pg_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Production shape: PostgreSQL, Redis broker, two gunicorn workers and fresh
    connections (spread over both workers): the limit is one for all of them."""
    url = _pg_url(pg_server, "bw_throttle_gunicorn")
    upgrade(url)
    seed(url)
    env = {
        "BENCHWARDEN_DATABASE_URL": url,
        "BENCHWARDEN_DATA_DIR": str(tmp_path),
        "BENCHWARDEN_SECRET_KEY": "g",
        "BENCHWARDEN_EAGER_TASKS": "true",
        "BENCHWARDEN_BROKER_URL": redis.url,
    }
    web = GunicornServer(env, workers=2, threads=2).start()
    try:
        codes = [
            requests.get(web.url + "/p/proj/alerts", headers=BAD, timeout=60).status_code
            for _ in range(30)
        ]
    finally:
        web.stop()
    assert codes == [200] * LIMIT + [429] * (30 - LIMIT)
