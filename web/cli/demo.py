"""``benchwarden demo``: the whole mission on one machine, from one command (web/demo.py).

``--prepare-only`` stops after the first step, building the demo repository
from the packaged template and registering its project: the smallest run that
proves an installed wheel carries what the demo needs (scripts/check-wheel).
"""

from __future__ import annotations

import argparse
import os
import sys

from rich.console import Console

from web.cli.context import Subcommands, settings_from
from web.cli.up import add_stack_arguments
from web.config import Settings
from web.demo import (
    DEMO_SETTINGS,
    PROJECT,
    TIME_ONLY_SETTINGS,
    DemoError,
    counting_problem,
    missing_demo_packages,
    report,
    run_demo,
    time_only_config,
)
from web.demo_repo import DemoHistory, build
from web.stack import Stack, StackError, terminate_as_interrupt, wait_for_signal
from web.up import prepare


def add_demo_command(sub: Subcommands) -> None:
    demo = sub.add_parser("demo", help="run the end-to-end demo on the embedded default")
    add_stack_arguments(demo)
    demo.add_argument("--commits", type=int, default=40, help="length of the demo history")
    demo.add_argument("--every", type=int, default=4, help="benchmark every N-th commit")
    demo.add_argument("--timeout", type=float, default=600, help="seconds to wait for results")
    demo.add_argument("--exit", action="store_true", help="stop when done instead of serving")
    demo.add_argument(
        "--prepare-only",
        action="store_true",
        help="only build the demo repository and register its project, then stop",
    )
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    console = Console()
    settings = settings_from(args)
    if args.prepare_only:
        return _prepare_only(settings, args.commits)
    missing = missing_demo_packages(os.environ.get("BENCHWARDEN_PYTHON") or sys.executable)
    if missing:
        console.print(f"[red]error:[/red] {missing}")
        return 2
    history = build(settings.data_dir.resolve() / "demo" / "repo", args.commits)
    problem = counting_problem(settings.data_dir.resolve() / "runner" / "tools")
    if problem:
        console.print(
            f"[yellow]note:[/yellow] {problem}; the demo measures wall time only,"
            " which a busy machine can fool"
        )
    chosen = TIME_ONLY_SETTINGS if problem else DEMO_SETTINGS
    settings_for_project = chosen | {
        "machines": [args.machine],
        "suites_source": "project" if problem else "commit",
    }
    suites_config = time_only_config(history) if problem else None
    token = prepare(settings, PROJECT, repo_url=str(history.path))
    # The demo decides on instruction counts, which load does not move: its runner
    # records a busy machine (and its times are left out) rather than waiting on it.
    preflight = os.environ.get("BENCHWARDEN_PREFLIGHT", "warn")
    stack = Stack(
        settings,
        host=args.host,
        port=args.port,
        machine=args.machine,
        child_env={"BENCHWARDEN_PREFLIGHT": preflight},
    )
    return _run(stack, token, history, settings_for_project, suites_config, args, console)


def _prepare_only(settings: Settings, commits: int) -> int:
    history = build(settings.data_dir.resolve() / "demo" / "repo", commits)
    prepare(settings, PROJECT, repo_url=str(history.path))
    print(f"demo repository: {history.path} ({len(history.shas)} commits)")
    print(f"project {PROJECT!r} is ready; `benchwarden demo` runs the rest")
    return 0


def _run(
    stack: Stack,
    token: str,
    history: DemoHistory,
    project_settings: dict[str, object],
    suites_config: str | None,
    args: argparse.Namespace,
    console: Console,
) -> int:
    """Start the stack, run the demo, report; 0 when both changes and the culprit were found."""
    terminate_as_interrupt()
    try:
        stack.start(token)
        outcome = run_demo(
            stack, history, project_settings, suites_config, args.every, args.timeout, console
        )
        report(console, stack, history, outcome)
        if not args.exit:
            console.print("The dashboard stays up; Ctrl-C stops everything.")
            wait_for_signal(stack)
    except (OSError, StackError, DemoError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()
    ok = outcome.slowdown_flagged and outcome.improvement_flagged
    return 0 if ok and outcome.culprit == history.slowdown_sha else 1
