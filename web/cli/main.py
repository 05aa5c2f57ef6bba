"""The `benchwarden` command: server-side commands plus the runner's own.

Every command returns an exit code; user errors print one ``error:`` line on
stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from runner.cli import add_parse_command, add_worker_command
from runner.lifetime import die_with_parent
from runner.submit import add_submit_command
from web.cli.admin import (
    add_db_commands,
    add_project_create,
    add_serve_command,
    add_token_commands,
)
from web.cli.backtest import add_backtest_command
from web.cli.context import Subcommands
from web.cli.demo import add_demo_command
from web.cli.github import add_github_command
from web.cli.importer import add_import_command
from web.cli.jobs import add_job_commands
from web.cli.project import add_settings_commands
from web.cli.up import add_up_command
from web.cli.users import add_user_commands
from web.config import SettingsError
from web.models.project_settings import ProjectSettingsError
from web.services.projects import ProjectError
from web.services.tokens import TokenError

USER_ERRORS = (SettingsError, ProjectError, TokenError, ProjectSettingsError)


def _add_project_commands(sub: Subcommands) -> None:
    project = sub.add_parser("project", help="projects").add_subparsers(
        dest="project_cmd", required=True
    )
    add_project_create(project)
    add_settings_commands(project)
    add_github_command(project)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchwarden", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_db_commands(sub)
    _add_project_commands(sub)
    add_token_commands(sub)
    add_serve_command(sub)
    add_up_command(sub)
    add_demo_command(sub)
    add_parse_command(sub)
    add_submit_command(sub)
    add_user_commands(sub)
    add_worker_command(sub)
    add_job_commands(sub)
    add_backtest_command(sub)
    add_import_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    die_with_parent()
    try:
        code: int = args.func(args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except DBAPIError as exc:
        # Unreachable server or a schema that was never migrated: say which, no traceback.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(
            f"error: database error ({reason}); is the server reachable and did"
            " `benchwarden db upgrade` run?",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
