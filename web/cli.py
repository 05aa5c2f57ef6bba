"""The `benchwarden` command: server-side commands plus the runner's own.

Every command returns an exit code; user errors print one ``error:`` line on
stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from runner.lifetime import die_with_parent
from web.config import Settings, SettingsError
from web.models.project_settings import ProjectSettingsError
from web.project_cli import add_settings_commands
from web.services import audit

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    url = getattr(args, "database_url", None)
    if url:
        from dataclasses import replace

        settings = replace(settings, database_url=url)
    return settings


def _sessionmaker(settings: Settings):  # type: ignore[no-untyped-def]
    from web.db import make_engine, make_sessionmaker

    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_sessionmaker(make_engine(settings.database_url))


def _actor() -> str:
    """Who runs a CLI admin command: the operating-system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from web.migrations import upgrade

    settings = _settings(args)
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    print("database is at the newest schema revision")
    return 0


def cmd_project_create(args: argparse.Namespace) -> int:
    from web.db import session_scope
    from web.services.projects import create_project

    with session_scope(_sessionmaker(_settings(args))) as session:
        project = create_project(
            session,
            args.name,
            public=not args.private,
            default_branch=args.default_branch,
            repo_url=args.repo_url,
        )
        audit.record(session, _actor(), "project.create", project.name, project_id=project.id)
        print(f"created project {project.name} ({'private' if args.private else 'public'})")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from web.db import session_scope
    from web.services.projects import ProjectError, find_project
    from web.services.tokens import create_token

    with session_scope(_sessionmaker(_settings(args))) as session:
        project = find_project(session, args.project)
        if project is None:
            raise ProjectError(f"project {args.project!r} does not exist")
        issued = create_token(session, project, args.scope, args.name or "")
        audit.record(
            session,
            _actor(),
            "token.create",
            f"token {issued.id}",
            project_id=project.id,
            details={"scope": issued.scope, "name": args.name or ""},
        )
    # The secret is printed once and never stored.
    print(issued.secret)
    print(f"token {issued.id}: {issued.scope} scope on {issued.project}", file=sys.stderr)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from web.db import session_scope
    from web.services.tokens import revoke_token

    with session_scope(_sessionmaker(_settings(args))) as session:
        token = revoke_token(session, args.id)
        audit.record(
            session, _actor(), "token.revoke", f"token {token.id}", project_id=token.project_id
        )
        print(f"token {token.id} revoked")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from web import create_app

    app = create_app(_settings(args))
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def _add_db_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd", required=True)
    upgrade = db.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade.add_argument("--database-url")
    upgrade.set_defaults(func=cmd_db_upgrade)


def _add_project_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    project = sub.add_parser("project", help="projects").add_subparsers(
        dest="project_cmd", required=True
    )
    create = project.add_parser("create", help="create a project")
    create.add_argument("name")
    create.add_argument("--private", action="store_true", help="reads need a token")
    create.add_argument("--default-branch", default="main")
    create.add_argument("--repo-url")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_project_create)
    add_settings_commands(project)


def _add_token_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_cmd", required=True
    )
    create = token.add_parser("create", help="create a token; prints the secret once")
    create.add_argument("--project", required=True)
    create.add_argument("--scope", choices=["read", "write", "admin"], required=True)
    create.add_argument("--name")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_token_create)
    revoke = token.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.add_argument("--database-url")
    revoke.set_defaults(func=cmd_token_revoke)


def _add_serve_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the web app (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--database-url")
    serve.set_defaults(func=cmd_serve)


def build_parser() -> argparse.ArgumentParser:
    from runner.cli import add_parse_command, add_worker_command
    from runner.submit import add_submit_command
    from web.backtest_cli import add_backtest_command
    from web.demo import add_demo_command
    from web.github.cli import add_github_command
    from web.import_cli import add_import_command
    from web.jobs_cli import add_job_commands
    from web.up import add_up_command
    from web.views.cli import add_user_commands

    parser = argparse.ArgumentParser(prog="benchwarden", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_db_commands(sub)
    _add_project_commands(sub)
    add_github_command(sub)
    _add_token_commands(sub)
    _add_serve_command(sub)
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
    from sqlalchemy.exc import DBAPIError

    from web.services.projects import ProjectError
    from web.services.tokens import TokenError

    args = build_parser().parse_args(argv)
    die_with_parent()
    try:
        code: int = args.func(args)
    except (SettingsError, ProjectError, TokenError, ProjectSettingsError) as exc:
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
