"""Where results come from: machines, branches and commits of a project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow


class Machine(Base):
    """A benchmark machine and its current fingerprint."""

    __tablename__ = "machine"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    cpu_model: Mapped[str | None] = mapped_column(String(500))
    cores: Mapped[int | None] = mapped_column(Integer)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    os: Mapped[str | None] = mapped_column(String(500))
    kernel: Mapped[str | None] = mapped_column(String(500))
    python: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    fingerprint_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Branch(Base):
    __tablename__ = "branch"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))


class Commit(Base):
    __tablename__ = "commit"
    __table_args__ = (UniqueConstraint("project_id", "sha"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    parents: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    author: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(Text)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BranchCommit(Base):
    """A commit's place on a branch: the order of every series on that branch.

    ``position`` follows the first-parent chain when parents are known (parent's
    position + 1); otherwise it comes from commit time, then arrival order.
    """

    __tablename__ = "branch_commit"
    __table_args__ = (
        UniqueConstraint("branch_id", "commit_id"),
        Index("ix_branch_commit_branch_position", "branch_id", "position"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    commit_id: Mapped[int] = mapped_column(ForeignKey("commit.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(BigInteger)
