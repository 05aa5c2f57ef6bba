"""Jobs the service hands to runner machines, and what became of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from runner.schema import JOB_KINDS
from web.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

__all__ = ["JOB_KINDS", "JOB_STATES", "Job", "RunnerHeartbeat"]

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


class Job(Base):
    """One unit of runner work: benchmark a commit (or an A/B pair) on one machine.

    ``spec`` holds what the runner was told (a `runner.schema.JobSpec` without its
    token); ``progress`` what the job found so far (a
    `web.models.job_progress.JobProgress`: runs, verdicts, a bisection's state).
    The job id doubles as the upload's idempotency key, so a redelivered job
    stores its run once.
    """

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_project_state", "project_id", "state"),
        Index("ix_job_alert", "alert_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="run")
    commit_sha: Mapped[str] = mapped_column(String(64))
    baseline_sha: Mapped[str | None] = mapped_column(String(64))
    branch: Mapped[str | None] = mapped_column(String(255))
    machine: Mapped[str] = mapped_column(String(200))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id", ondelete="SET NULL"))
    parent_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    spec: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    progress: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"))
    log_tail: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunnerHeartbeat(Base):
    """When a runner consuming ``bench.<machine>`` last said it is alive.

    Machines are queue names shared by every project, so this is one row per
    name, not per project; ``schedule`` reads it to refuse queueing jobs no
    runner will take.
    """

    __tablename__ = "runner_heartbeat"

    machine: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
