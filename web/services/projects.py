"""Creating and finding projects."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Project

PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class ProjectError(ValueError):
    """A project operation that cannot be done as asked."""


def find_project(session: Session, name: str) -> Project | None:
    return session.scalar(select(Project).where(Project.name == name))


def create_project(
    session: Session,
    name: str,
    *,
    public: bool = True,
    default_branch: str = "main",
    repo_url: str | None = None,
) -> Project:
    if not PROJECT_NAME.match(name):
        raise ProjectError(
            f"project name {name!r} must start with a letter or digit and hold only"
            " letters, digits, '.', '_' and '-'"
        )
    if find_project(session, name) is not None:
        raise ProjectError(f"project {name!r} already exists")
    project = Project(name=name, public=public, default_branch=default_branch, repo_url=repo_url)
    session.add(project)
    session.flush()
    return project


def ensure_project(session: Session, name: str, **kwargs: object) -> Project:
    """The named project, created when missing (used by the demo and quickstart)."""
    existing = find_project(session, name)
    return existing if existing is not None else create_project(session, name, **kwargs)  # type: ignore[arg-type]
