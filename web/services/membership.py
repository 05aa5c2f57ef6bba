"""Per-project roles of dashboard users: viewer < maintainer < admin.

A private project is visible only to its members and to global admins
(``User.is_admin``, a superuser who needs no membership row). Writes on the
dashboard (triage, annotations, renames, merges) need ``maintainer``.
Functions take a Session and never commit; the entry point audits and commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import PROJECT_ROLES, Project, ProjectMember, User
from web.services.projects import find_project

MAINTAINER = "maintainer"


class MembershipError(ValueError):
    """A role change that cannot be done as asked (unknown user, project or role)."""


@dataclass(frozen=True)
class Grant:
    """One role of one user, named for display and for the audit trail."""

    username: str
    project: str
    project_id: int
    role: str
    previous: str | None = None


def role_at_least(role: str | None, needed: str) -> bool:
    """True when ``role`` includes every right of ``needed`` (None is no role at all)."""
    if role is None:
        return False
    return PROJECT_ROLES.index(role) >= PROJECT_ROLES.index(needed)


def role_on(session: Session, user: User, project: Project) -> str | None:
    """The user's effective role on ``project``: ``admin`` for global admins, else the row's."""
    if user.is_admin:
        return "admin"
    return session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.user_id == user.id, ProjectMember.project_id == project.id
        )
    )


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _user_and_project(session: Session, username: str, project: str) -> tuple[User, Project]:
    user = find_user(session, username)
    if user is None:
        raise MembershipError(f"user {username!r} does not exist")
    found = find_project(session, project)
    if found is None:
        raise MembershipError(f"project {project!r} does not exist")
    return user, found


def grant(session: Session, username: str, project: str, role: str) -> Grant:
    """Give ``username`` exactly ``role`` on ``project`` (replacing any other role)."""
    if role not in PROJECT_ROLES:
        raise MembershipError(f"role must be one of {', '.join(PROJECT_ROLES)}, got {role!r}")
    user, found = _user_and_project(session, username, project)
    member = session.get(ProjectMember, (user.id, found.id))
    previous = member.role if member is not None else None
    if member is None:
        session.add(ProjectMember(user_id=user.id, project_id=found.id, role=role))
    else:
        member.role = role
    session.flush()
    return Grant(user.username, found.name, found.id, role, previous)


def revoke(session: Session, username: str, project: str) -> Grant:
    """Remove ``username``'s role on ``project``; an error when there is none."""
    user, found = _user_and_project(session, username, project)
    member = session.get(ProjectMember, (user.id, found.id))
    if member is None:
        raise MembershipError(f"user {username!r} has no role on project {project!r}")
    session.delete(member)
    session.flush()
    return Grant(user.username, found.name, found.id, member.role)


def roles_of(session: Session, username: str) -> list[Grant]:
    """Every project role of ``username``, by project name."""
    user = find_user(session, username)
    if user is None:
        raise MembershipError(f"user {username!r} does not exist")
    rows = session.execute(
        select(Project.name, Project.id, ProjectMember.role)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.name)
    )
    return [Grant(user.username, name, project_id, role) for name, project_id, role in rows]
