"""The embedded broker waits out a locked SQLite file instead of losing a message.

Every worker polls the broker file and the web app writes to it; a publish
that meets the file locked for longer than pysqlite's 5-second default used to
fail, and the task it carried (a job, or the step after a finished job) was
never sent.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy.exc import OperationalError

from runner.sqlite_broker import (
    BUSY_POLL,
    IDLE_POLL,
    SQLITE_BROKER_LOCK_WAIT,
    TRANSPORT,
    sqlite_broker_options,
)
from runner.worker import make_runner_celery, worker_config
from web.celery_app import make_celery
from web.config import Settings

pytestmark = [pytest.mark.timeout(120)]

HOLD = 6.0  # seconds the file stays locked: past pysqlite's 5 s, within ours


def _publish_while_locked(path: Path, options: dict[str, object]) -> float:
    """Publish one message while another connection holds the file's write
    lock for HOLD seconds; the seconds the publish took."""
    url = f"sqlalchemy+sqlite:///{path}"
    with Connection(url, transport_options=options) as conn:
        queue = conn.SimpleQueue("locks")
        queue.put({"warm": True})  # tables exist before the lock is taken
        locker = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(HOLD, locker.rollback)
        release.start()
        start = time.monotonic()
        try:
            queue.put({"job": 1})
            return time.monotonic() - start
        finally:
            release.join()
            locker.close()
            queue.close()


def test_a_publish_outlasts_a_lock_longer_than_the_driver_default(tmp_path: Path) -> None:
    url = f"sqlalchemy+sqlite:///{tmp_path / 'ours.db'}"
    took = _publish_while_locked(tmp_path / "ours.db", sqlite_broker_options(url))
    assert HOLD - 0.5 <= took < SQLITE_BROKER_LOCK_WAIT
    with Connection(url) as conn:  # both messages are there
        queue = conn.SimpleQueue("locks")
        got = [queue.get(timeout=5).payload for _ in range(2)]
        queue.close()
    assert got == [{"warm": True}, {"job": 1}]


def test_without_the_option_the_same_publish_fails(tmp_path: Path) -> None:
    with pytest.raises(OperationalError, match="locked"):
        _publish_while_locked(tmp_path / "plain.db", {})


def test_both_apps_use_the_transport_on_sqlite_and_not_on_redis(tmp_path: Path) -> None:
    sqlite_url = f"sqlalchemy+sqlite:///{tmp_path / 'broker.db'}"
    wanted = sqlite_broker_options(sqlite_url)
    assert wanted["connect_args"]["timeout"] == SQLITE_BROKER_LOCK_WAIT  # type: ignore[index]
    settings = replace(
        Settings.from_env({"BENCHWARDEN_DATA_DIR": str(tmp_path)}),
        secret_key="t",
        eager_tasks=False,
    )
    assert settings.broker_url == sqlite_url
    runner = make_runner_celery(worker_config("m", {"BENCHWARDEN_DATA_DIR": str(tmp_path)}))
    for app in (make_celery(settings), runner):
        assert app.conf.broker_transport_options == wanted
        assert app.conf.broker_transport == TRANSPORT
        assert app.conf.broker_url == f"sqlite:///{tmp_path / 'broker.db'}"
    assert sqlite_broker_options("redis://127.0.0.1:6379/0") == {}


def test_the_transport_polls_fast_while_tasks_flow_and_backs_off_when_idle(tmp_path: Path) -> None:
    """kombu's 1 s poll after every task capped a prefetch-1 worker at one task a second."""
    url = f"sqlite:///{tmp_path / 'flow.db'}"
    options = sqlite_broker_options(f"sqlalchemy+{url}")
    with Connection(url, transport=TRANSPORT, transport_options=options) as conn:
        queue = conn.SimpleQueue("flow")
        transport = conn.transport
        assert transport.polling_interval == IDLE_POLL
        queue.put({"n": 1})
        assert queue.get(timeout=5).payload == {"n": 1}
        assert transport.polling_interval == BUSY_POLL
        queue.close()
    journal = sqlite3.connect(tmp_path / "flow.db").execute("PRAGMA journal_mode").fetchone()
    assert journal == ("wal",)
