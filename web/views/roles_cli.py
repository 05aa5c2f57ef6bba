"""``benchwarden user grant|revoke|roles``: per-project dashboard roles, each change audited."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from web.models import PROJECT_ROLES


def _in_session(work: Callable[..., int], args: argparse.Namespace) -> int:
    """Run ``work(session, args)`` in one transaction; a MembershipError is one error line."""
    from web.cli import _sessionmaker, _settings
    from web.db import session_scope
    from web.services.membership import MembershipError

    try:
        with session_scope(_sessionmaker(_settings(args))) as session:
            return work(session, args)
    except MembershipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _grant(session, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from web.cli import _actor
    from web.services import audit, membership

    done = membership.grant(session, args.username, args.project, args.role)
    audit.record(
        session,
        _actor(),
        "member.grant",
        f"user {done.username}",
        project_id=done.project_id,
        details={"role": done.role, "previous": done.previous},
    )
    print(f"{done.username} is {done.role} on {done.project}")
    return 0


def _revoke(session, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from web.cli import _actor
    from web.services import audit, membership

    done = membership.revoke(session, args.username, args.project)
    audit.record(
        session,
        _actor(),
        "member.revoke",
        f"user {done.username}",
        project_id=done.project_id,
        details={"role": done.role},
    )
    print(f"{done.username} no longer has a role on {done.project}")
    return 0


def _roles(session, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from web.services import membership

    grants = membership.roles_of(session, args.username)
    user = membership.find_user(session, args.username)
    if user is not None and user.is_admin:
        print(f"{args.username} is a global admin (every project)")
    for grant in grants:
        print(f"{grant.project}\t{grant.role}")
    if not grants and not (user and user.is_admin):
        print(f"{args.username} has no project roles", file=sys.stderr)
    return 0


def add_role_commands(user: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add grant/revoke/roles beside ``user create``."""
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
