"""``benchwarden backtest --project P [--set KEY=VALUE ...] [--grid KEY=V1,V2,...]``.

Prints one table row per setting: the project's current detector settings
first, then each candidate (``--set`` applied to every point of the grid).
Keys are ``detector.*`` settings, with or without the prefix, validated as
``benchwarden project set`` validates them: a bad key or value is one
``error:`` line and exit status 2. Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys

from web.cli.context import Subcommands, dispose, sessions, settings_from
from web.db import session_scope
from web.models.project_settings import ProjectSettingsError
from web.services.backtest import COLUMNS, BacktestRow, as_dict, backtest, candidates, cells
from web.services.projects import ProjectError, find_project


def add_backtest_command(sub: Subcommands) -> None:
    parser = sub.add_parser(
        "backtest",
        help="replay detection over the stored history with other thresholds, scored by triage",
        description="e.g. benchwarden backtest --project P --grid min_rel_change=0.01,0.02,0.05",
    )
    parser.add_argument("--project", required=True)
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a detector setting of every candidate (repeatable)",
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="one candidate per value; several --grid give their product",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--database-url")
    parser.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    factory = sessions(settings_from(args))
    try:
        with session_scope(factory) as session:
            project = find_project(session, args.project)
            if project is None:
                raise ProjectError(f"project {args.project!r} does not exist")
            try:
                settings = candidates(project, args.sets, args.grid)
            except ProjectSettingsError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            rows = backtest(session, project, settings)
            session.rollback()  # a replay writes nothing; end the read before printing
    finally:
        dispose(factory)
    if args.json:
        print(json.dumps([as_dict(row) for row in rows], indent=2))
    else:
        print(format_table(rows))
    return 0


def format_table(rows: list[BacktestRow]) -> str:
    """The rows as an aligned text table, one line per setting."""
    header = ["setting", *COLUMNS]
    lines = [[row.label, *(_cell(v) for v in cells(row).values())] for row in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    out = []
    for line in [header, *lines]:
        rest = (c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True))
        out.append("  ".join([line[0].ljust(widths[0]), *rest]))
    return "\n".join(out)


def _cell(value: int | float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
