"""``benchwarden import --project P PATH``: load a results history in one go.

PATH is an asv results directory (``results/<machine>/<hash>-<env>.json`` beside
``machine.json`` and ``benchmarks.json``) or a directory of result files named
by commit (``<sha>.json``, any supported format; ``--order FILE`` lists the SHAs
oldest first, else files are taken by modification time). Everything is stored
in one transaction (:mod:`web.services.bulk_load`): a bad file is one ``error:``
line, exit status 2, and nothing stored. Progress goes to stderr, the summary
to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from web.cli.context import Subcommands, actor, dispose, sessions, settings_from
from web.db import session_scope
from web.services import audit
from web.services.bulk_load import import_history
from web.services.bulk_source import BulkSourceError, plan
from web.services.projects import ProjectError, find_project


def add_import_command(sub: Subcommands) -> None:
    command = sub.add_parser(
        "import",
        help="load a results history (asv results directory, or <sha>.json files) in bulk",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("path", help="asv results directory or directory of <sha>.json files")
    command.add_argument("--project", required=True)
    command.add_argument("--branch", help="branch the history is on (default: the project's)")
    command.add_argument("--order", metavar="FILE", help="commit SHAs oldest first, one a line")
    command.add_argument(
        "--workers", type=int, default=None, help="parse processes (default: one per CPU)"
    )
    command.add_argument("--no-detect", action="store_true", help="store only; detect later")
    command.add_argument("--quiet", action="store_true", help="no progress line")
    command.add_argument("--database-url")
    command.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    try:
        files = plan(Path(args.path), Path(args.order) if args.order else None)
    except BulkSourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    factory = sessions(settings_from(args))
    progress = None if args.quiet else _ProgressLine()
    try:
        with session_scope(factory) as session:
            project = find_project(session, args.project)
            if project is None:
                raise ProjectError(f"project {args.project!r} does not exist")
            summary = import_history(
                session,
                project,
                files,
                branch=args.branch,
                workers=args.workers,
                progress=progress,
                detect=not args.no_detect,
            )
            audit.record(
                session,
                actor(),
                "project.import",
                project.name,
                project_id=project.id,
                details={"path": str(args.path), "runs": summary.runs_added},
            )
    except BulkSourceError as exc:
        if progress is not None:
            progress.end()
        print(f"error: {exc} (nothing was imported)", file=sys.stderr)
        return 2
    finally:
        dispose(factory)
    if progress is not None:
        progress.end()
    print(
        f"imported {summary.files} files: {summary.runs_added} runs"
        f" ({summary.runs_skipped} already stored), {summary.results_added:,} results,"
        f" {summary.commits_added} new commits, {summary.series:,} series"
    )
    print(
        f"load {summary.load_seconds:.1f} s ({summary.rate:,.0f} results/s);"
        f" points {summary.points_seconds:.1f} s; detection {summary.detect_seconds:.1f} s,"
        f" {summary.new_alerts} new alerts"
    )
    return 0


class _ProgressLine:
    """One self-overwriting stderr line, at most a few updates a second."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.shown = 0.0
        self.active = False

    def __call__(self, done: int, total: int, results: int) -> None:
        now = time.perf_counter()
        if done < total and now - self.shown < 0.25:
            return
        self.shown, self.active = now, True
        rate = results / (now - self.started) if now > self.started else 0.0
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        print(
            f"\r[{bar}] {done}/{total} files, {results:,} results, {rate:,.0f}/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def end(self) -> None:
        if self.active:
            print(file=sys.stderr)
            self.active = False
