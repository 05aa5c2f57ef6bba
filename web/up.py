"""`benchwarden up`: the service on the embedded default, from one command.

Migrates the database, makes sure the project and a write token exist, serves
the web app on loopback and, with ``--samples DIR``, submits every supported
result file under DIR over HTTP so there is something to look at.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from runner.parsers import ParseError, parse_path
from runner.schema import RunPayload
from runner.upload import UploadError, post_run
from web.config import Settings


def add_up_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = sub.add_parser("up", help="run the service on the embedded default")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--project", default="samples")
    up.add_argument("--samples", type=Path, help="submit the result files under this directory")
    up.add_argument("--database-url")
    up.add_argument("--exit-after-samples", action="store_true", help="stop once loaded")
    up.set_defaults(func=cmd_up)


def _prepare(settings: Settings, project_name: str) -> str:
    from web.db import make_engine, make_sessionmaker, session_scope
    from web.migrations import upgrade
    from web.services.projects import ensure_project
    from web.services.tokens import create_token

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    with session_scope(make_sessionmaker(make_engine(settings.database_url))) as session:
        project = ensure_project(session, project_name)
        return create_token(session, project, "write", "benchwarden up").secret


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
    from dataclasses import replace

    from werkzeug.serving import make_server

    from web import create_app

    settings = Settings.from_env()
    if args.database_url:
        settings = replace(settings, database_url=args.database_url)
    base_url = f"http://{args.host}:{args.port}"
    settings = replace(settings, base_url=base_url)
    token = _prepare(settings, args.project)
    server = make_server(args.host, args.port, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"benchwarden is up: {base_url}/  (API: {base_url}/api/v1/openapi.json)")
    print(f"write token for project {args.project!r}: {token}")
    if args.samples:
        stored, skipped = submit_samples(base_url, token, args.project, args.samples)
        print(f"submitted {stored} runs from {args.samples} ({skipped} files not supported)")
        print(f"benchmarks: {base_url}/api/v1/projects/{args.project}/benchmarks")
    if args.exit_after_samples:
        server.shutdown()
        return 0
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stop.wait()
    server.shutdown()
    print("benchwarden stopped")
    return 0
