"""State of the GitHub integration: received deliveries and the one comment per PR."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId, UTCDateTime, utcnow


class WebhookDelivery(Base):
    """A processed ``X-GitHub-Delivery`` id, so redeliveries are handled once."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrComment(Base):
    """The sticky comment of a pull request, edited in place on every push."""

    __tablename__ = "pr_comment"
    __table_args__ = (UniqueConstraint("project_id", "pr_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    pr_number: Mapped[int] = mapped_column(Integer)
    github_comment_id: Mapped[int | None] = mapped_column(BigInteger)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
