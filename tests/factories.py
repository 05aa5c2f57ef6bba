"""Factories for test data; every test builds what it needs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from web.models import Project
from web.services.projects import create_project
from web.services.tokens import create_token


def make_project(session: Session, name: str = "proj", *, public: bool = True) -> Project:
    project = create_project(session, name, public=public)
    session.commit()
    return project


def make_token(session: Session, project: Project, scope: str = "write") -> str:
    secret = create_token(session, project, scope).secret
    session.commit()
    return secret
