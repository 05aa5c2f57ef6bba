"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, tuned to deliver promptly.

kombu's transport polls the message table and sleeps ``polling_interval``
(1 s) whenever a poll finds nothing to take. A worker with prefetch 1 finds
nothing to take while its one task runs, so it slept a whole second after every
task: about one task per second, however short the tasks were. This transport
polls every 10 ms while tasks are flowing and backs off to 250 ms when the
queues have been idle for a while, so an idle worker costs little CPU.

The file is put in WAL mode with ``synchronous=NORMAL`` (the same choice as
the embedded database, web/db.py): readers no longer block the writer, and a
commit does not wait for an fsync. A power loss can drop the last
not-yet-checkpointed messages; the scheduler recreates jobs, and a crash of a
process loses nothing.

Celery and kombu are given the URL without its ``sqlalchemy+`` prefix and this
transport by its import path; see :func:`celery_broker`.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from kombu.transport import sqlalchemy as kombu_sqlalchemy

PREFIXES = ("sqlalchemy+sqlite", "sqla+sqlite")
TRANSPORT = "runner.sqlite_broker:Transport"

# pysqlite waits 5 s for a lock by default; a publish that still finds the file
# locked after kombu's retries is lost, and the job it carried never runs.
SQLITE_BROKER_LOCK_WAIT = 30.0

BUSY_POLL = 0.01  # seconds between polls while tasks are flowing
IDLE_POLL = 0.25  # seconds between polls once the queues have been quiet
BUSY_WINDOW = 2.0  # seconds after the last delivery that count as "flowing"


class _WalConnection(sqlite3.Connection):
    """A pysqlite connection that sets the journal mode it needs as it opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=NORMAL")


class Transport(kombu_sqlalchemy.Transport):
    """kombu's SQLAlchemy transport with an adaptive polling interval."""

    _last_delivery = 0.0

    @property
    def polling_interval(self) -> float:
        recent = time.monotonic() - self._last_delivery < BUSY_WINDOW
        return BUSY_POLL if recent else IDLE_POLL

    @polling_interval.setter
    def polling_interval(self, _value: float) -> None:
        """kombu sets this from a ``polling_interval`` transport option; ours is adaptive."""

    def _deliver(self, message: Any, queue: Any) -> None:
        self._last_delivery = time.monotonic()
        super()._deliver(message, queue)  # type: ignore[no-untyped-call]


def is_sqlite_broker(broker_url: str) -> bool:
    return broker_url.startswith(PREFIXES)


def sqlite_broker_options(broker_url: str) -> dict[str, object]:
    """Engine options for the transport (kombu passes its transport options to
    ``create_engine``): a longer lock wait and WAL on SQLite, nothing otherwise."""
    if not is_sqlite_broker(broker_url):
        return {}
    return {"connect_args": {"timeout": SQLITE_BROKER_LOCK_WAIT, "factory": _WalConnection}}


def celery_broker(broker_url: str) -> dict[str, object]:
    """Celery settings that connect to ``broker_url``: for the embedded broker, the
    plain SQLAlchemy URL with this module's transport; other URLs as they are."""
    if not is_sqlite_broker(broker_url):
        return {"broker_url": broker_url}
    return {
        "broker_url": broker_url.split("+", 1)[1],
        "broker_transport": TRANSPORT,
        "broker_transport_options": sqlite_broker_options(broker_url),
    }
