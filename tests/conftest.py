"""Shared fixtures: real PostgreSQL and SQLite databases, migrated once per session.

Each test runs inside a transaction that is rolled back at its end; requests made
through the Flask test client use savepoints on that same connection, so their
commits are real commits to the code under test and vanish afterwards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

# Re-exported for the tests that post result files: our own fixtures, the shared corpus.
from tests.runner.corpus import CORPUS as CORPUS
from tests.runner.corpus import FIXTURES as FIXTURES
from tests.runner.corpus import SHARED as SHARED
from tests.runner.corpus import corpus_present
from tests.support.servers import PostgresServer, free_port
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade

REPO = Path(__file__).resolve().parents[1]

# Runner workers default to waiting for a quiet machine (runner.preflight), and
# the machine running the tests is busy with the tests themselves: workers the
# tests start record the load and run. The policies, the default included, are
# tested on their own (tests/runner/test_runner_jobs.py).
os.environ.setdefault("BENCHWARDEN_PREFLIGHT", "warn")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "corpus: reads ../shared beside the repository (extra coverage; skipped without it)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A fresh clone has no ../shared: corpus tests are skipped with the reason, never errors.

    Our own fixtures (tests/fixtures/results) give every format its coverage either way.
    """
    if corpus_present():
        return
    skip = pytest.mark.skip(reason=f"extra coverage: no shared corpus at {CORPUS}")
    for item in items:
        if item.get_closest_marker("corpus") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer | None]:
    if os.environ.get("BENCHWARDEN_TEST_DATABASE_URL"):
        yield None
        return
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def _pg_url(server: PostgresServer | None, name: str) -> str:
    external = os.environ.get("BENCHWARDEN_TEST_DATABASE_URL")
    if external:
        return external
    assert server is not None
    return server.create_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database per engine, shared by the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        url = _pg_url(request.getfixturevalue("pg_server"), "bw_test")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture()
def db_connection(db_engine: Engine) -> Iterator[Connection]:
    connection = db_engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture()
def session_factory(db_connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture()
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture()
def settings(db_engine: Engine, tmp_path: Path) -> Settings:
    return replace(
        Settings.from_env({}),
        data_dir=tmp_path,
        database_url=db_engine.url.render_as_string(hide_password=False),
        secret_key="test-secret",
        base_url="http://bw.test",
        eager_tasks=True,
    )


@pytest.fixture()
def app(settings: Settings, session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    from web import create_app

    application = create_app(settings)
    application.extensions["benchwarden.engine"].dispose()
    application.extensions["benchwarden.sessionmaker"] = session_factory
    application.extensions["benchwarden.celery"].conf.benchwarden_sessionmaker = session_factory
    application.testing = True
    return application


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def table_counts(connection: Connection) -> dict[str, int]:
    """Row counts of every table, to prove a rejected request changed nothing."""
    from web.models import Base

    return {
        name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        for name in Base.metadata.tables
    }


class LiveServer:
    """The real app on a loopback port, over a real database with committed data."""

    def __init__(self, settings: Settings) -> None:
        from werkzeug.serving import make_server

        from web import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = replace(settings, base_url=self.url)
        self.app = create_app(self.settings)
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self.app.extensions["benchwarden.engine"].dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def live_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, committed-to database for one test that talks real HTTP."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.db'}"
    else:
        url = _pg_url(request.getfixturevalue("pg_server"), "bw_live")
    upgrade(url)
    return url


@pytest.fixture()
def live_server(live_database: str, tmp_path: Path) -> Iterator[LiveServer]:
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path,
        database_url=live_database,
        secret_key="t",
        eager_tasks=True,
    )
    with LiveServer(settings) as server:
        yield server
