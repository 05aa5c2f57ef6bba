"""On SQLite, a session that only reads holds no write lock (issue 17, item 3).

Every transaction used to start with BEGIN IMMEDIATE, so a page view that ran
one SELECT held the database's one write lock until its request ended, and an
ingest arriving meanwhile failed with "database is locked" after the busy
timeout. Reads (GET and HEAD requests, ``read_only`` engines) now start a plain
BEGIN, which in WAL mode reads a snapshot and blocks nobody; writers still take
the lock up front.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from web.db import make_engine, make_sessionmaker, read_only, request_session


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    # a one-second busy timeout, so that a writer kept waiting fails fast
    engine = make_engine(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        connect_args={"timeout": 1, "check_same_thread": False},
    )
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    return engine


def _insert(engine: Engine) -> None:
    with Session(engine) as writer, writer.begin():
        writer.execute(text("INSERT INTO t VALUES (1)"))


def test_a_reading_session_lets_a_writer_commit(engine: Engine) -> None:
    with Session(read_only(engine)) as reader:
        reader.execute(text("SELECT count(*) FROM t")).scalar()
        _insert(engine)  # would wait out the busy timeout and fail before
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0, "a snapshot"
    with Session(engine) as after:
        assert after.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_a_writing_session_still_takes_the_lock_up_front(engine: Engine) -> None:
    with Session(engine) as first:
        first.execute(text("SELECT count(*) FROM t")).scalar()
        with pytest.raises(OperationalError, match="database is locked"):
            _insert(engine)


@pytest.mark.parametrize(("method", "blocks"), [("GET", False), ("HEAD", False), ("POST", True)])
def test_request_sessions_read_on_get_and_head_only(
    engine: Engine, method: str, blocks: bool
) -> None:
    app = Flask(__name__)
    app.extensions["benchwarden.sessionmaker"] = make_sessionmaker(engine)
    with app.test_request_context("/", method=method):
        session = request_session()
        session.execute(text("SELECT count(*) FROM t")).scalar()
        if blocks:
            with pytest.raises(OperationalError, match="database is locked"):
                _insert(engine)
        else:
            _insert(engine)
        session.close()
