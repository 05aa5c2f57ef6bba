"""A run: the results of one submission for one commit on one machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

RUN_STATUSES = ("ok", "failed", "partial")


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key"),
        # The target of result's composite key (see web.models.result.Result); an
        # index, not a constraint, for SQLite's sake (see migration 0010).
        Index("uq_run_id_commit_id", "id", "commit_id", unique=True),
        Index("ix_run_project_created", "project_id", "created_at"),
        Index("ix_run_commit", "commit_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    commit_id: Mapped[int] = mapped_column(ForeignKey("commit.id", ondelete="CASCADE"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="SET NULL"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="ok")
    source_format: Mapped[str] = mapped_column(String(50))
    source_name: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the submission's content, to tell a retry from a reused key (see ingest).
    content_hash: Mapped[str | None] = mapped_column(String(64))
    ci_url: Mapped[str | None] = mapped_column(String(2000))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    environment: Mapped[str | None] = mapped_column(String(500))
    machine_snapshot: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    log: Mapped[str | None] = mapped_column(Text)
