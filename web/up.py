"""`benchwarden up`: the whole service on the embedded default, from one command.

Migrates the database, makes sure the project and a write token exist, then
runs the web app, a service worker and one local runner worker (see
web/stack.py) until Ctrl-C or SIGTERM. With ``--samples DIR`` it first submits
every supported result file under DIR over HTTP, so there is something to see.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace
from pathlib import Path

from runner.parsers import ParseError, parse_path
from runner.schema import RunPayload
from runner.upload import UploadError, post_run
from web.config import Settings
from web.models import Project
from web.models.project_settings import ProjectSettings
from web.stack import Stack, StackError, terminate_as_interrupt, wait_for_signal


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://... (default: SQLite)")
    parser.add_argument("--broker-url", help="e.g. redis://127.0.0.1:6379/0 (default: SQLite)")
    parser.add_argument("--machine", default="local", help="name of the local runner machine")


def add_up_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = sub.add_parser("up", help="run web app, service worker and a local runner together")
    add_stack_arguments(up)
    up.add_argument("--project", default="samples")
    up.add_argument("--samples", type=Path, help="submit the result files under this directory")
    up.add_argument("--exit-after-samples", action="store_true", help="stop once loaded")
    up.set_defaults(func=cmd_up)


def stack_settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if args.database_url:
        settings = replace(settings, database_url=args.database_url)
    if args.broker_url:
        settings = replace(settings, broker_url=args.broker_url)
    return settings


def prepare(
    settings: Settings, project_name: str, machine: str | None = None, **project_fields: object
) -> str:
    """Migrate, ensure the project exists; return its write token (kept across restarts).

    With ``machine`` (the local runner's), a project that names no machines is
    set to it, so `schedule` queues where the local runner listens; a project
    that names others is left alone and told about.
    """
    from web.db import make_engine, make_sessionmaker, session_scope
    from web.migrations import upgrade
    from web.services.projects import ensure_project
    from web.up_token import up_token

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            project = ensure_project(session, project_name, **project_fields)
            if machine is not None:
                _route_to(project, machine)
            return up_token(session, project, settings.data_dir)
    finally:
        engine.dispose()


def _route_to(project: Project, machine: str) -> None:
    if "machines" not in (project.settings or {}):
        project.settings = {**(project.settings or {}), "machines": [machine]}
        print(f"project {project.name!r}: jobs go to machine {machine!r} (the local runner)")
    elif machine not in ProjectSettings.of(project).machines:
        names = ",".join(ProjectSettings.of(project).machines)
        print(
            f"note: project {project.name!r} runs on {names}, not on the local runner"
            f" {machine!r}; `benchwarden project set {project.name} machines={machine}` changes it"
        )


def _sample_files(root: Path) -> list[Path]:
    asv_dirs = {p.parent for p in root.rglob("benchmarks.json") if p.parent.name == "results"}
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not any(d in p.parents for d in asv_dirs)
        and p.suffix in {".json", ".txt", ".gz", ".jsonl"}
    ]
    return sorted(asv_dirs) + files


def submit_samples(url: str, token: str, project: str, root: Path) -> tuple[int, int]:
    """Submit what parses under ``root``; return (runs stored, files skipped)."""
    stored = skipped = 0
    for path in _sample_files(root):
        try:
            parsed = parse_path(path)
        except (ParseError, OSError):
            skipped += 1
            continue
        for run in parsed.runs:
            data = parsed.model_copy(update={"runs": [run]}).model_dump_json().encode()
            commit = run.commit or hashlib.sha1(str(path).encode()).hexdigest()
            payload = RunPayload(
                project=project,
                commit=commit,
                format="benchwarden",
                machine=run.machine,
                idempotency_key=hashlib.sha256(data + commit.encode()).hexdigest()[:40],
                source_name=path.name,
            )
            try:
                post_run(url, token, payload, data, path.name, retries=2)
                stored += 1
            except UploadError as exc:
                print(f"skipped {path.name}: {exc}", file=sys.stderr)
                skipped += 1
    return stored, skipped


def cmd_up(args: argparse.Namespace) -> int:
    settings = stack_settings(args)
    token = prepare(settings, args.project, machine=args.machine)
    stack = Stack(settings, host=args.host, port=args.port, machine=args.machine)
    terminate_as_interrupt()
    try:
        stack.start(token)
        return _serve(stack, args, token)
    except (OSError, StackError) as exc:
        print(f"error: cannot start on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()


def _serve(stack: Stack, args: argparse.Namespace, token: str) -> int:
    settings = stack.settings
    print(f"benchwarden is up: {stack.url}/  (API: {stack.url}/api/v1/openapi.json)")
    print(f"write token for project {args.project!r}: {token}")
    print(f"workers: service + runner {args.machine!r}; logs in {settings.data_dir / 'logs'}")
    if args.samples:
        stored, skipped = submit_samples(stack.url, token, args.project, args.samples)
        print(f"submitted {stored} runs from {args.samples} ({skipped} files not supported)")
        print(f"dashboard: {stack.url}/p/{args.project}/")
    if args.exit_after_samples:
        return 0
    print("Ctrl-C stops everything.")
    wait_for_signal(stack)
    print("benchwarden stopped")
    return 0
