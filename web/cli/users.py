"""``benchwarden user create|grant|revoke|roles``: dashboard accounts and per-project roles.

A password comes from stdin (``--password-stdin``) or a prompt, never from the
command line; every role change is audited.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from web.cli.context import Subcommands, actor, transaction
from web.models import PROJECT_ROLES, User
from web.services import audit, membership
from web.services.membership import MembershipError

MIN_PASSWORD = 8


def cmd_user_create(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    if password is None:
        return 2
    username = args.username.strip()
    if not username or len(username) > 200:
        print("error: the username must be 1 to 200 characters", file=sys.stderr)
        return 2
    with transaction(args) as session:
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


def _in_session(
    work: Callable[[Session, argparse.Namespace], int], args: argparse.Namespace
) -> int:
    """Run ``work(session, args)`` in one transaction; a MembershipError is one error line."""
    try:
        with transaction(args) as session:
            return work(session, args)
    except MembershipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _grant(session: Session, args: argparse.Namespace) -> int:
    done = membership.grant(session, args.username, args.project, args.role)
    audit.record(
        session,
        actor(),
        "member.grant",
        f"user {done.username}",
        project_id=done.project_id,
        details={"role": done.role, "previous": done.previous},
    )
    print(f"{done.username} is {done.role} on {done.project}")
    return 0


def _revoke(session: Session, args: argparse.Namespace) -> int:
    done = membership.revoke(session, args.username, args.project)
    audit.record(
        session,
        actor(),
        "member.revoke",
        f"user {done.username}",
        project_id=done.project_id,
        details={"role": done.role},
    )
    print(f"{done.username} no longer has a role on {done.project}")
    return 0


def _roles(session: Session, args: argparse.Namespace) -> int:
    grants = membership.roles_of(session, args.username)
    user = membership.find_user(session, args.username)
    if user is not None and user.is_admin:
        print(f"{args.username} is a global admin (every project)")
    for grant in grants:
        print(f"{grant.project}\t{grant.role}")
    if not grants and not (user and user.is_admin):
        print(f"{args.username} has no project roles", file=sys.stderr)
    return 0


def add_user_commands(sub: Subcommands) -> None:
    user = sub.add_parser("user", help="dashboard users").add_subparsers(
        dest="user_cmd", required=True
    )
    create = user.add_parser("create", help="create a dashboard user")
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true", help="read the password line")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_user_create)
    grant = user.add_parser("grant", help="give a user a role on a project")
    grant.add_argument("username")
    grant.add_argument("--project", required=True)
    # Validated by the service, so a bad role reads like every other error here.
    grant.add_argument("--role", required=True, help=" | ".join(PROJECT_ROLES))
    grant.add_argument("--database-url")
    grant.set_defaults(func=lambda args: _in_session(_grant, args))
    revoke = user.add_parser("revoke", help="remove a user's role on a project")
    revoke.add_argument("username")
    revoke.add_argument("--project", required=True)
    revoke.add_argument("--database-url")
    revoke.set_defaults(func=lambda args: _in_session(_revoke, args))
    roles = user.add_parser("roles", help="list a user's project roles")
    roles.add_argument("username")
    roles.add_argument("--database-url")
    roles.set_defaults(func=lambda args: _in_session(_roles, args))
