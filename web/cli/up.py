"""``benchwarden up``: the whole service on the embedded default, from one command.

Migrates the database, makes sure the project and a write token exist
(`web.up.prepare`), then runs the web app, a service worker and one local
runner worker (see web/stack.py) until Ctrl-C or SIGTERM. With ``--samples DIR``
it first submits every supported result file under DIR over HTTP, so there is
something to see.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from web.cli.context import Subcommands, settings_from
from web.stack import Stack, StackError, terminate_as_interrupt, wait_for_signal
from web.up import prepare, submit_samples


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every command that starts the stack (``up``, ``demo``)."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://... (default: SQLite)")
    parser.add_argument("--broker-url", help="e.g. redis://127.0.0.1:6379/0 (default: SQLite)")
    parser.add_argument("--machine", default="local", help="name of the local runner machine")


def add_up_command(sub: Subcommands) -> None:
    up = sub.add_parser("up", help="run web app, service worker and a local runner together")
    add_stack_arguments(up)
    up.add_argument("--project", default="samples")
    up.add_argument("--samples", type=Path, help="submit the result files under this directory")
    up.add_argument("--exit-after-samples", action="store_true", help="stop once loaded")
    up.set_defaults(func=cmd_up)


def cmd_up(args: argparse.Namespace) -> int:
    settings = settings_from(args)
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
