"""The service-side Celery app and the dispatcher that sends tasks after commit.

Tasks are registered from an explicit table (no autodiscovery by import side
effect). Each task opens one session, calls one plain function with it, and
commits once; tests call the plain functions directly.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from runner.schema import JOB_FINISHED_TASK
from runner.sqlite_broker import celery_broker
from web.config import Settings
from web.db import enqueue_after_commit, make_engine, make_sessionmaker, session_scope

log = logging.getLogger(__name__)

SERVICE_QUEUES = ("detect", "notify", "schedule")

# task name -> (module, function, queue). The function takes (session, dispatcher, *args).
TASKS: dict[str, tuple[str, str, str]] = {
    "benchwarden.detect_run": ("web.tasks.detect", "detect_run", "detect"),
    "benchwarden.confirm_alerts": ("web.tasks.schedule", "confirm_alerts", "schedule"),
    JOB_FINISHED_TASK: ("web.tasks.schedule", "job_finished", "schedule"),
    "benchwarden.schedule_pr": ("web.tasks.schedule", "schedule_pull_request", "schedule"),
    "benchwarden.notify_pr": ("web.tasks.notify", "notify_pr", "notify"),
    "benchwarden.notify_summary": ("web.tasks.notify", "notify_summary", "notify"),
}


@dataclass
class Dispatcher:
    """Sends tasks by name; in eager mode runs them in-process instead."""

    celery: Celery

    def send(self, name: str, *args: Any, queue: str | None = None) -> None:
        if name in self.celery.tasks:
            self.celery.tasks[name].apply_async(args=args, queue=queue)
        elif self.celery.conf.task_always_eager:
            log.warning("eager mode: no local task %s; not sent", name)
        else:
            # Runner tasks live in other processes; the service knows only their names.
            self.celery.send_task(name, args=args, queue=queue)

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None:
        """Send once ``session`` commits; dropped if it rolls back."""

        def _send() -> None:
            try:
                self.send(name, *args, queue=queue)
            except Exception:  # the data is committed; logged so a stalled job can be traced
                log.exception("could not send task %s (%s)", name, describe_args(args))

        enqueue_after_commit(session, _send)


def describe_args(args: tuple[Any, ...]) -> str:
    """Task arguments fit for a log: ids as they are, a job message by its job id only.

    A runner job's message carries the job's write token; it must never reach a log.
    """
    parts = []
    for arg in args:
        if isinstance(arg, int | str) and not isinstance(arg, bool):
            parts.append(repr(arg)[:80])
        elif isinstance(arg, dict) and "job_id" in arg:
            parts.append(f"job {arg['job_id']!r}")
        else:
            parts.append(type(arg).__name__)
    return ", ".join(parts)


def _bind(celery: Celery, name: str, target: Callable[..., Any]) -> None:
    def run(*args: Any) -> Any:
        factory: sessionmaker[Session] = celery.conf.benchwarden_sessionmaker
        with session_scope(factory) as session:
            return target(session, Dispatcher(celery), *args)

    run.__name__ = name.rsplit(".", 1)[-1]
    run.__doc__ = target.__doc__
    # shared=False: tasks belong to this app only, not to every Celery app in the process.
    celery.task(name=name, shared=False, acks_late=True, reject_on_worker_lost=True)(run)


def make_celery(settings: Settings, factory: sessionmaker[Session] | None = None) -> Celery:
    """A Celery app for the service queues; ``factory`` defaults to one on settings' database."""
    broker = celery_broker(settings.broker_url)
    celery = Celery("benchwarden", broker=broker.pop("broker_url"), set_as_current=False)
    celery.conf.update(
        task_default_queue="detect",
        task_routes={name: {"queue": queue} for name, (_, _, queue) in TASKS.items()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        task_always_eager=settings.eager_tasks,
        task_eager_propagates=True,
        broker_transport_options=(
            {"visibility_timeout": 3600} if settings.broker_url.startswith("redis") else {}
        ),
    )
    # The embedded broker: our SQLite transport, its lock wait and journal mode.
    celery.conf.update(broker)
    if factory is None:
        factory = make_sessionmaker(make_engine(settings.database_url))
    celery.conf.benchwarden_sessionmaker = factory
    # By module path: the task modules import this one (for Dispatcher).
    for name, (module, function, _queue) in TASKS.items():
        _bind(celery, name, getattr(importlib.import_module(module), function))
    return celery
