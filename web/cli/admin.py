"""``db upgrade``, ``project create``, ``token create|revoke`` and ``serve``."""

from __future__ import annotations

import argparse
import sys

from web import create_app
from web.cli.context import Subcommands, actor, ensure_data_dir, settings_from, transaction
from web.migrations import upgrade
from web.services import audit
from web.services.projects import ProjectError, create_project, find_project
from web.services.tokens import create_token, revoke_token


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ensure_data_dir(settings)
    upgrade(settings.database_url)
    print("database is at the newest schema revision")
    return 0


def cmd_project_create(args: argparse.Namespace) -> int:
    with transaction(args) as session:
        project = create_project(
            session,
            args.name,
            public=not args.private,
            default_branch=args.default_branch,
            repo_url=args.repo_url,
        )
        audit.record(session, actor(), "project.create", project.name, project_id=project.id)
        print(f"created project {project.name} ({'private' if args.private else 'public'})")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    with transaction(args) as session:
        project = find_project(session, args.project)
        if project is None:
            raise ProjectError(f"project {args.project!r} does not exist")
        issued = create_token(session, project, args.scope, args.name or "")
        audit.record(
            session,
            actor(),
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
    with transaction(args) as session:
        token = revoke_token(session, args.id)
        audit.record(
            session, actor(), "token.revoke", f"token {token.id}", project_id=token.project_id
        )
        print(f"token {token.id} revoked")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    app = create_app(settings_from(args))
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def add_db_commands(sub: Subcommands) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd", required=True)
    upgrade_cmd = db.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade_cmd.add_argument("--database-url")
    upgrade_cmd.set_defaults(func=cmd_db_upgrade)


def add_project_create(project: Subcommands) -> None:
    create = project.add_parser("create", help="create a project")
    create.add_argument("name")
    create.add_argument("--private", action="store_true", help="reads need a token")
    create.add_argument("--default-branch", default="main")
    create.add_argument("--repo-url")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_project_create)


def add_token_commands(sub: Subcommands) -> None:
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


def add_serve_command(sub: Subcommands) -> None:
    serve = sub.add_parser("serve", help="run the web app (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--database-url")
    serve.set_defaults(func=cmd_serve)
