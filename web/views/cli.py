"""``benchwarden user create USERNAME``: dashboard accounts (password via stdin or prompt)."""

from __future__ import annotations

import argparse
import getpass
import sys

from web.views.roles_cli import add_role_commands

MIN_PASSWORD = 8


def cmd_user_create(args: argparse.Namespace) -> int:
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from web.cli import _sessionmaker, _settings
    from web.db import session_scope
    from web.models import User

    password = _read_password(args.password_stdin)
    if password is None:
        return 2
    username = args.username.strip()
    if not username or len(username) > 200:
        print("error: the username must be 1 to 200 characters", file=sys.stderr)
        return 2
    with session_scope(_sessionmaker(_settings(args))) as session:
        if session.scalar(select(User).where(User.username == username)) is not None:
            print(f"error: user {username!r} already exists", file=sys.stderr)
            return 2
        session.add(
            User(
                username=username,
                password_hash=generate_password_hash(password),
                is_admin=args.admin,
            )
        )
    print(f"created user {username}{' (admin)' if args.admin else ''}")
    return 0


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return None
    if len(password) < MIN_PASSWORD:
        print(f"error: the password needs at least {MIN_PASSWORD} characters", file=sys.stderr)
        return None
    return password


def add_user_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="dashboard users").add_subparsers(
        dest="user_cmd", required=True
    )
    create = user.add_parser("create", help="create a dashboard user")
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true", help="read the password line")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_user_create)
    add_role_commands(user)
