"""What `benchwarden up` and `benchwarden demo` do before and after the stack starts.

`prepare` migrates the database, makes sure the project and a write token exist
(kept across restarts); `submit_samples` loads result files over HTTP so a
fresh service has something to show. The commands themselves are in
web/cli/up.py.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from runner.parsers import ParseError, parse_path
from runner.schema import RunPayload
from runner.upload import UploadError, post_run
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Project
from web.models.project_settings import ProjectSettings
from web.services.projects import ensure_project
from web.up_token import up_token


def prepare(
    settings: Settings, project_name: str, machine: str | None = None, **project_fields: object
) -> str:
    """Migrate, ensure the project exists; return its write token (kept across restarts).

    With ``machine`` (the local runner's), a project that names no machines is
    set to it, so `schedule` queues where the local runner listens; a project
    that names others is left alone and told about.
    """
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
