"""The runner-side Celery app: one queue per machine, one benchmark at a time.

``benchwarden worker --machine NAME`` consumes ``bench.NAME`` with concurrency 1
and prefetch 1, so two benchmarks never share the machine (and no second job
waits in this worker's buffer while another worker could take it). Tasks are
acknowledged late and rejected when the worker process is lost: a worker killed
mid-job leaves its job on the broker to be delivered again, and the upload's
idempotency key makes the run stored once. The service sends jobs by name
(`runner.schema.RUN_JOB_TASK`); nothing here imports the service.

Once ready, the worker sends a heartbeat for its machine and then every
``BENCHWARDEN_HEARTBEAT_INTERVAL`` seconds (60; 0 turns it off), from a thread
of the main process, so a worker busy with a long job still counts as live.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from runner.config import RunnerSettings, RunnerSettingsError
from runner.job import RunnerContext, heartbeat, run_job
from runner.preflight import POLICIES, WORKER_DEFAULT_POLICY
from runner.reporting import ServiceClient
from runner.schema import RUN_JOB_TASK, bench_queue
from runner.sqlite_broker import celery_broker

# Longer than any job may run: an unacknowledged job is redelivered after this.
DEFAULT_VISIBILITY_TIMEOUT = 6 * 3600


@dataclass(frozen=True)
class WorkerConfig:
    settings: RunnerSettings
    context: RunnerContext
    visibility_timeout: float
    restore_interval: float = 30.0
    heartbeat_interval: float = 60.0


def parse_cpus(text: str) -> tuple[int, ...]:
    """``"1,3-5"`` -> (1, 3, 4, 5); the CPUs suite processes are pinned to."""
    cpus: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise RunnerSettingsError(f"BENCHWARDEN_CPUS must look like '1,3-5', got {text!r}")
        cpus.extend(range(int(low), int(high or low) + 1))
    return tuple(sorted(set(cpus)))


def worker_config(
    machine: str | None = None, environ: Mapping[str, str] | None = None
) -> WorkerConfig:
    """Read the worker's settings once, from the environment plus the command line."""
    env = os.environ if environ is None else environ
    settings = RunnerSettings.from_env(env)
    policy = env.get("BENCHWARDEN_PREFLIGHT", WORKER_DEFAULT_POLICY)
    if policy not in POLICIES:
        raise RunnerSettingsError(f"BENCHWARDEN_PREFLIGHT must be one of {', '.join(POLICIES)}")
    context = RunnerContext(
        url=settings.url,
        token=settings.token,
        machine=machine or settings.machine,
        work_dir=settings.work_dir.resolve(),
        cpus=parse_cpus(env.get("BENCHWARDEN_CPUS", "")),
        preflight=policy,
        preflight_max_wait=float(env.get("BENCHWARDEN_PREFLIGHT_MAX_WAIT", "300")),
        python=env.get("BENCHWARDEN_PYTHON") or None,
        upload_retries=settings.upload_retries,
    )
    timeout = float(env.get("BENCHWARDEN_VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY_TIMEOUT))
    restore = float(env.get("BENCHWARDEN_RESTORE_INTERVAL", "30"))
    beat = float(env.get("BENCHWARDEN_HEARTBEAT_INTERVAL", "60"))
    return WorkerConfig(settings, context, timeout, restore, beat)


def start_heartbeats(config: WorkerConfig) -> threading.Event:
    """Send heartbeats now and every interval until the returned event is set."""
    stop = threading.Event()
    context = config.context
    client = ServiceClient(context.url, context.token, retries=0, timeout=10.0)

    def beat() -> None:
        while True:
            heartbeat(client, context.machine)
            if stop.wait(config.heartbeat_interval):
                return

    if config.heartbeat_interval > 0:
        threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    return stop


def _transport_options(config: WorkerConfig) -> dict[str, object]:
    if not config.settings.broker_url.startswith("redis"):
        return {}
    return {
        "visibility_timeout": config.visibility_timeout,
        "unacked_restore_interval": config.restore_interval,
        "unacked_restore_throttle": 1,
    }


def make_runner_celery(config: WorkerConfig) -> Celery:
    """The Celery app of one runner machine, with ``benchwarden.run_job`` registered."""
    queue = bench_queue(config.context.machine)
    broker = celery_broker(config.settings.broker_url)
    app = Celery("benchwarden-runner", broker=broker.pop("broker_url"), set_as_current=False)
    app.conf.update(
        task_default_queue=queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # Redis: jobs of a lost worker return to the queue once unacknowledged for
        # visibility_timeout, checked every restore_interval (kombu's default is ~100 s).
        broker_transport_options=_transport_options(config),
    )
    # The embedded broker: our SQLite transport, its lock wait and journal mode.
    app.conf.update(broker)
    context = config.context

    def run(spec: dict[str, Any]) -> str:
        return run_job(spec, context).state

    run.__name__ = "run_job"
    # shared=False: the task belongs to this app only (see web/celery_app.py).
    app.task(name=RUN_JOB_TASK, shared=False, acks_late=True, reject_on_worker_lost=True)(run)
    return app


def worker_command(args: argparse.Namespace) -> int:
    config = worker_config(args.machine)
    if args.cpus:
        context = config.context
        config = WorkerConfig(
            config.settings,
            RunnerContext(**{**context.__dict__, "cpus": parse_cpus(args.cpus)}),
            config.visibility_timeout,
            config.restore_interval,
            config.heartbeat_interval,
        )
    config.context.work_dir.mkdir(parents=True, exist_ok=True)
    app = make_runner_celery(config)
    # Once ready, the pool's processes exist: none is forked while the thread holds a lock.
    worker_ready.connect(lambda **_: start_heartbeats(config), weak=False)
    app.worker_main(
        [
            "worker",
            "-Q",
            bench_queue(config.context.machine),
            "--concurrency=1",
            "--prefetch-multiplier=1",
            "--pool=prefork",
            f"--hostname={config.context.machine}@%h",
            "--without-gossip",
            "--without-mingle",
            f"--loglevel={args.loglevel}",
        ]
    )
    return 0
