"""A Celery app with one trivial task, for measuring how fast a broker delivers.

Started as a real worker process (``celery -A tests.support.broker_probe worker``);
the broker URL comes from ``BROKER_PROBE_URL``, and ``BROKER_PROBE_STOCK=1`` uses
kombu's own SQLAlchemy transport instead of ours, for comparison.
"""

from __future__ import annotations

import os
import time

from celery import Celery

from runner.sqlite_broker import SQLITE_BROKER_LOCK_WAIT, celery_broker

BROKER_URL = os.environ.get("BROKER_PROBE_URL", "sqlalchemy+sqlite:///broker-probe.db")

app = Celery("broker-probe", set_as_current=False)
if os.environ.get("BROKER_PROBE_STOCK") == "1":
    app.conf.update(
        broker_url=BROKER_URL,
        broker_transport_options={"connect_args": {"timeout": SQLITE_BROKER_LOCK_WAIT}},
    )
else:
    app.conf.update(celery_broker(BROKER_URL))
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
)


@app.task(name="probe.stamp", shared=False, acks_late=True)
def stamp(path: str) -> None:
    """Append the time the task ran, one line per task."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{time.time()}\n")
