"""Dashboard users, their project roles, series annotations and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Ordered from least to most: each role may do everything the ones before it may.
PROJECT_ROLES = ("viewer", "maintainer", "admin")


class ProjectMember(Base):
    """A user's role on one project; a global ``User.is_admin`` needs no row."""

    __tablename__ = "project_member"
    __table_args__ = (Index("ix_project_member_project", "project_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Annotation(Base):
    """A note on a series at a commit; ``known_change`` tells the detector to expect it."""

    __tablename__ = "annotation"
    __table_args__ = (Index("ix_annotation_series", "series_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    commit_id: Mapped[int] = mapped_column(ForeignKey("commit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="known_change")
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who did what, when: every admin or triage action leaves one row."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
