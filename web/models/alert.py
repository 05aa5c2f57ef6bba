"""Alerts raised by the detector, grouped into summaries by commit range, and triaged by people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

TRIAGE_STATES = ("untriaged", "acknowledged", "investigating", "fixed", "invalid", "wontfix")


class AlertSummary(Base):
    """All alerts of one project whose change lies in the same commit range."""

    __tablename__ = "alert_summary"
    __table_args__ = (
        UniqueConstraint("project_id", "branch_id", "last_good_commit_id", "first_commit_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    last_good_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commit.id"))
    first_commit_id: Mapped[int] = mapped_column(ForeignKey("commit.id"))
    status: Mapped[str] = mapped_column(String(20), default="untriaged")
    issue_url: Mapped[str | None] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One detected change of one series, stored with the detector version that found it."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("series_id", "first_commit_id"),
        Index("ix_alert_summary", "summary_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    summary_id: Mapped[int] = mapped_column(ForeignKey("alert_summary.id", ondelete="CASCADE"))
    last_good_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commit.id"))
    first_commit_id: Mapped[int] = mapped_column(ForeignKey("commit.id"))
    before: Mapped[float] = mapped_column(Float)
    after: Mapped[float] = mapped_column(Float)
    rel_change: Mapped[float] = mapped_column(Float)
    pvalue: Mapped[float] = mapped_column(Float)
    is_regression: Mapped[bool] = mapped_column(Boolean)
    # "step": the level changed at first_commit. "drift": it ramped from
    # first_commit (the ramp's first commit) to end_commit, with no one commit to
    # blame; the end moves on while the ramp goes on, the start keys the alert.
    kind: Mapped[str] = mapped_column(String(10), default="step", server_default="step")
    end_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commit.id"))
    status: Mapped[str] = mapped_column(String(20), default="untriaged")
    # candidate -> confirmed | not_reproduced, decided by confirmation re-runs.
    confirmation: Mapped[str] = mapped_column(String(20), default="candidate")
    culprit_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commit.id"))
    # False once a later detection pass no longer finds this change.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    detector_version: Mapped[str] = mapped_column(String(50))
    thresholds: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
