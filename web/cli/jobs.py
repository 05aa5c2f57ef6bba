"""Service-side job commands: ``service-worker``, ``schedule`` and ``jobs``.

Each handler returns an exit status; user errors print one ``error:`` line.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from runner.suites import SuiteError
from web.celery_app import SERVICE_QUEUES, Dispatcher, make_celery
from web.cli.context import Subcommands, dispose, ensure_data_dir, sessions, settings_from
from web.cli.project import read_suites_file
from web.config import Settings
from web.db import session_scope
from web.logging_setup import configure_worker_logging
from web.models import Job, Project
from web.models.base import utcnow
from web.services.jobs import JobError, cancel_job, machines_for, schedule_range
from web.services.projects import find_project
from web.services.repo import History, HistoryError
from web.services.runners import live_machines, machine_status


def _celery(settings: Settings):  # type: ignore[no-untyped-def]

    celery = make_celery(settings)
    celery.conf.benchwarden_data_dir = str(settings.data_dir)
    return celery


def cmd_service_worker(args: argparse.Namespace) -> int:
    """Consume the service queues (detect, notify, schedule)."""
    settings = settings_from(args)
    ensure_data_dir(settings)
    configure_worker_logging(settings.log_format)
    celery = _celery(settings)
    celery.worker_main(
        [
            "worker",
            "-Q",
            args.queues or ",".join(SERVICE_QUEUES),
            f"--concurrency={args.concurrency}",
            "--hostname=service@%h",
            "--without-gossip",
            "--without-mingle",
            f"--loglevel={args.loglevel}",
        ]
    )
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    try:
        config = read_suites_file(args.config) if args.config else None
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings_from(args, existing=True)
    factory = sessions(settings)
    try:
        return _schedule(args, settings, _celery(settings), factory, config)
    finally:
        dispose(factory)


def _schedule(
    args: argparse.Namespace,
    settings: Settings,
    celery: Any,
    factory: sessionmaker[Session],
    config: str | None,
) -> int:

    try:
        with session_scope(factory) as session:
            project = find_project(session, args.project)
            if project is None:
                raise JobError(f"project {args.project!r} does not exist")
            machines = args.machine or machines_for(project)
            _check_runners(session, project.name, machines, force=args.force)
            jobs = schedule_range(
                session,
                Dispatcher(celery),
                project,
                History(settings.data_dir / "mirrors"),
                args.commits,
                branch=args.branch,
                machines=machines,
                every=args.every,
                config=config,
            )
            ids = [job.id for job in jobs]
            for job in jobs:
                print(f"job {job.id}: {job.commit_sha[:12]} on {job.machine}")
    except (JobError, HistoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"scheduled {len(ids)} job(s) for {args.project}", file=sys.stderr)
    return _wait(factory, ids, args.timeout) if args.wait else 0


def _check_runners(session: Session, project: str, machines: list[str], *, force: bool) -> None:
    """Say which machines get the jobs; refuse (JobError) one no live runner serves."""
    now = utcnow()
    statuses = machine_status(session, machines, now)
    print(f"queueing for: {', '.join(s.describe(now) for s in statuses)}", file=sys.stderr)
    dead = [s.machine for s in statuses if not s.live]
    if not dead:
        return
    live = live_machines(session, now)
    fix = (
        f"`benchwarden project set {project} machines={','.join(live)}` to use the live"
        f" runner(s), or start `benchwarden worker --machine {dead[0]}`"
        if live
        else f"start `benchwarden worker --machine {dead[0]}` (or `benchwarden up`)"
    )
    message = f"no live runner serves machine {dead[0]!r}: {fix}"
    if not force:
        raise JobError(f"{message}; --force queues anyway")
    print(f"warning: {message}", file=sys.stderr)


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel one job, or every queued job (of ``--project``); a runner skips them."""
    if (args.id is None) == (not args.queued):
        print("error: give a job id or --queued", file=sys.stderr)
        return 2
    factory = sessions(settings_from(args, existing=True))
    try:
        return _cancel(factory, args)
    finally:
        dispose(factory)


def _cancel(factory: sessionmaker[Session], args: argparse.Namespace) -> int:
    with session_scope(factory) as session:
        query = select(Job).join(Project, Project.id == Job.project_id)
        if args.id is not None:
            query = query.where(Job.id == args.id)
        else:
            query = query.where(Job.state == "queued")
        if args.project:
            query = query.where(Project.name == args.project)
        jobs = list(session.scalars(query.order_by(Job.id)))
        if args.id is not None and not jobs:
            print(f"error: job {args.id} does not exist", file=sys.stderr)
            return 2
        ended = [job for job in jobs if not cancel_job(session, job, "cancelled from the CLI")]
        for job in ended:
            print(f"error: job {job.id} already ended ({job.state})", file=sys.stderr)
        print(f"cancelled {len(jobs) - len(ended)} job(s)")
    return 2 if ended else 0


def _wait(factory: sessionmaker[Session], ids: list[int], timeout: float) -> int:
    """Show a progress bar until every job is done or failed; 1 when any failed."""
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=False) as progress:
        bar = progress.add_task("jobs", total=len(ids))
        while True:
            with factory() as session:
                states = list(session.scalars(select(Job.state).where(Job.id.in_(ids))))
            finished = sum(s in ("done", "failed", "cancelled") for s in states)
            running = sum(s == "running" for s in states)
            progress.update(bar, completed=finished, description=f"jobs ({running} running)")
            if finished == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    if finished < len(ids):
        print(f"error: {len(ids) - finished} job(s) unfinished after {timeout:g}s", file=sys.stderr)
        return 1
    return _report_failures(factory, ids)


def _report_failures(factory: sessionmaker[Session], ids: list[int]) -> int:
    """One line per failed job with its reason, then a summary; 1 when any failed."""
    query = select(Job).where(Job.id.in_(ids), Job.state == "failed").order_by(Job.id)
    with factory() as session:
        failed = list(session.scalars(query))
    for job in failed:
        reason = f"job {job.id} ({job.commit_sha[:12]} on {job.machine}) failed: {_reason(job)}"
        print(reason, file=sys.stderr)
    if failed:
        print(f"error: {len(failed)} of {len(ids)} job(s) failed", file=sys.stderr)
        return 1
    print(f"{len(ids)} job(s) finished, none failed")
    return 0


def _reason(job: Job) -> str:
    """The error's first line, else the log's last line: what a person reads first."""
    error = (job.error or "").strip().splitlines()
    log = (job.log_tail or "").strip().splitlines()
    return (error[0] if error else log[-1] if log else "no reason recorded")[:300]


def cmd_jobs(args: argparse.Namespace) -> int:
    factory = sessions(settings_from(args, existing=True))
    with factory() as session:
        query = select(Job, Project.name).join(Project, Project.id == Job.project_id)
        if args.project:
            query = query.where(Project.name == args.project)
        if args.state:
            query = query.where(Job.state == args.state)
        rows = session.execute(query.order_by(Job.id.desc()).limit(args.limit)).all()
    columns = ("id", "project", "kind", "state", "machine", "commit", "attempts", "run")
    table = Table(*columns, "seconds", "log tail")
    for job, project in rows:
        seconds = ""
        if job.started_at and job.finished_at:
            seconds = f"{(job.finished_at - job.started_at).total_seconds():.1f}"
        tail = (job.error or job.log_tail or "").strip().splitlines()[-1:] or [""]
        identity = (str(job.id), project, job.kind, job.state, job.machine, job.commit_sha[:12])
        table.add_row(*identity, str(job.attempts), str(job.run_id or ""), seconds, tail[0][:60])
    dispose(factory)
    Console(width=160).print(table)
    return 0


def add_job_commands(sub: Subcommands) -> None:
    worker = sub.add_parser("service-worker", help="consume the service queues")
    worker.add_argument("--queues", help="comma-separated (default: detect,notify,schedule)")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--loglevel", default="INFO")
    worker.add_argument("--database-url")
    worker.set_defaults(func=cmd_service_worker)

    schedule = sub.add_parser("schedule", help="queue benchmark jobs for a commit range")
    schedule.add_argument("--project", required=True)
    schedule.add_argument(
        "--commits", required=True, help="A..B (first parents, A left out), ..B (all) or one commit"
    )
    schedule.add_argument("--every", type=int, default=1, help="every N-th commit (newest kept)")
    schedule.add_argument("--machine", action="append", help="machine (default: project's)")
    schedule.add_argument("--branch")
    schedule.add_argument("--wait", action="store_true", help="show progress until finished")
    schedule.add_argument("--timeout", type=float, default=3600.0)
    schedule.add_argument(
        "--force", action="store_true", help="queue even when no live runner serves a machine"
    )
    schedule.add_argument(
        "--config", metavar="FILE", help="suites for these jobs (TOML), over every other config"
    )
    schedule.add_argument("--database-url")
    schedule.set_defaults(func=cmd_schedule)

    jobs = sub.add_parser("jobs", help="list runner jobs and their state")
    jobs.add_argument("--project")
    jobs.add_argument("--state", choices=["queued", "running", "done", "failed", "cancelled"])
    jobs.add_argument("--limit", type=int, default=50)
    jobs.add_argument("--database-url")
    jobs.set_defaults(func=cmd_jobs)
    actions = jobs.add_subparsers(dest="jobs_cmd")
    cancel = actions.add_parser("cancel", help="cancel a job, or every queued one")
    cancel.add_argument("id", type=int, nargs="?", help="job id")
    cancel.add_argument("--queued", action="store_true", help="every queued job")
    cancel.add_argument("--project", help="only this project's jobs")
    cancel.add_argument("--database-url")
    cancel.set_defaults(func=cmd_cancel)
