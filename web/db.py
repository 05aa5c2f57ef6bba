"""Engine and session handling: one session per request or task, one commit.

Services and queries receive a Session and never commit; the entry point that
opened the session commits once (see DESIGN.md, house style 3 and 4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_AFTER_COMMIT_KEY = "benchwarden.after_commit"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(database_url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(database_url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL;
    # SQLAlchemy's documented fix is to turn it off and emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Execution option of a connection that only reads (see ``read_only``).
READ_ONLY = "benchwarden_read_only"


def _sqlite_begin(connection: Any) -> None:
    # A writer takes the write lock up front with IMMEDIATE, so concurrent writers
    # queue on the busy timeout instead of failing with "database is locked" on
    # upgrade. A reader must not: in WAL mode a plain BEGIN reads a snapshot and
    # blocks nobody, where IMMEDIATE made every page view hold the one write lock
    # (an ingest waited behind dashboard reads, and failed after the timeout).
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_only(engine: Engine) -> Engine:
    """The engine for sessions that only read: a plain BEGIN on SQLite, no write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def begin_reading(session: Session) -> None:
    """Start ``session``'s next transaction as a read: a plain BEGIN on SQLite, no write lock.

    For the read step of a task that then calls out (GitHub, git, a webhook):
    the step ends with a commit, and the write step after the call starts a
    new transaction, which takes the lock as every writer does. A session
    already inside a transaction is left as it is.
    """
    if not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    return factory


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit once on success, roll back on error, then run after-commit hooks."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        _after_commit_hooks(session).clear()
        raise
    finally:
        session.close()


def enqueue_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` only once the session's transaction has committed.

    Tasks read what the transaction wrote; enqueueing earlier would let a worker
    look for rows that do not exist yet (Warehouse's ``tasks.py`` does the same).
    """
    hooks = _after_commit_hooks(session)
    if not hooks:
        event.listen(session, "after_commit", _run_hooks, once=True)
        event.listen(session, "after_rollback", _drop_hooks, once=True)
    hooks.append(callback)


def _after_commit_hooks(session: Session) -> list[Callable[[], None]]:
    hooks: list[Callable[[], None]] = session.info.setdefault(_AFTER_COMMIT_KEY, [])
    return hooks


def _run_hooks(session: Session) -> None:
    hooks = list(_after_commit_hooks(session))
    _after_commit_hooks(session).clear()
    for hook in hooks:
        hook()


def _drop_hooks(session: Session) -> None:
    _after_commit_hooks(session).clear()


def request_session() -> Session:
    """The session of the current Flask request, opened on first use and closed at teardown."""
    from flask import current_app, g, request  # workers and the CLI use web.db without Flask

    session: Session | None = g.get("db_session")
    if session is None:
        factory: sessionmaker[Session] = current_app.extensions["benchwarden.sessionmaker"]
        # GET and HEAD only read (every write is a POST, PUT or DELETE).
        if request.method in ("GET", "HEAD"):
            session = factory(bind=read_only(factory.kw["bind"]))
        else:
            session = factory()
        g.db_session = session
    return session


def close_request_session(_exc: BaseException | None = None) -> None:
    """Teardown: whatever the handler did not commit is rolled back."""
    from flask import g  # workers and the CLI use web.db without Flask

    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
