"""Runner-side command-line functions, registered into the ``benchwarden`` command.

The top-level parser lives in ``web/cli/main.py``; it calls `add_parse_command` to
register ``benchwarden parse PATH [--format F]``. Each command is a plain
function returning an exit status, so tests call it directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from runner.parsers import FORMATS, ParseError, parse_path

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `cat big | head` reports for cat


def parse_command(path: str, format: str | None) -> int:
    """Parse `path` and print ``{"format": ..., "runs": [...]}`` as JSON to stdout.

    Returns 0 on success. On a ParseError prints ``error: <message>`` to
    stderr and returns 2 (the conventional status for bad input), so scripts
    can tell an unreadable file from a crash.
    """
    try:
        output = parse_path(Path(path), format=format)
    except ParseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        json.dump(output.model_dump(mode="json"), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()
    return EXIT_OK


def _reader_went_away() -> int:
    """The reader closed the pipe (``parse FILE | head``): stop quietly, no traceback.

    stdout is pointed at /dev/null so the interpreter's final flush of what is still
    buffered does not raise BrokenPipeError again at exit (Python's signal docs).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def _run_parse(args: argparse.Namespace) -> int:
    return parse_command(args.path, args.format)


def add_parse_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``parse PATH [--format F]``; the handler is stored as ``func``.

    The handler takes the parsed namespace and returns the exit status.
    """
    parser = subparsers.add_parser(
        "parse",
        help="parse a benchmark result file or directory and print normalized JSON",
        description=(
            "Parse a result file (or an asv results / target/criterion directory) and"
            " print the normalized results as JSON. The format is detected from the"
            " content unless --format is given."
        ),
    )
    parser.add_argument("path", help="result file, .json.gz, or results directory")
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="skip detection and use this format"
    )
    parser.set_defaults(func=_run_parse)


def _run_worker(args: argparse.Namespace) -> int:
    from runner.worker import worker_command  # imports Celery only when a worker starts

    return worker_command(args)


def add_worker_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``worker --machine NAME``: consume ``bench.NAME`` one job at a time."""
    cmd = subparsers.add_parser("worker", help="run benchmark jobs for one machine")
    cmd.add_argument("--machine", help="machine name (default: BENCHWARDEN_MACHINE or host name)")
    cmd.add_argument("--cpus", help="pin suites to these CPUs, e.g. '1' or '2-3'")
    cmd.add_argument("--loglevel", default="INFO")
    cmd.set_defaults(func=_run_worker)
