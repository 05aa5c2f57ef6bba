"""Projects and the API tokens scoped to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from runner.suites import parse_suites
from web.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow
from web.models.project_settings import ProjectSettings

TOKEN_SCOPES = ("read", "write", "admin")


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    default_branch: Mapped[str] = mapped_column(String(255), default="main")
    repo_url: Mapped[str | None] = mapped_column(String(2000))
    settings: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    # The project's own suite declaration (benchwarden.toml text), used for commits
    # without one, or for every commit with settings ``suites_source = "project"``.
    suites_config: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="project")

    @validates("settings")
    def _validate_settings(self, _key: str, value: dict[str, object] | None) -> dict[str, object]:
        # Every writer (CLI, API, dashboard, webhooks) goes through here, so an
        # invalid document is refused with ProjectSettingsError before it is stored.
        return ProjectSettings.parse(value).stored()

    @validates("suites_config")
    def _validate_suites(self, _key: str, value: str | None) -> str | None:
        # The runner's own parser: text a runner would refuse is never stored
        # (runner.suites.SuiteError names the key or the TOML error).
        if value is not None:
            parse_suites(value)
        return value


class ApiToken(Base):
    """A bearer token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship(back_populates="tokens")

    def allows(self, scope: str) -> bool:
        """Scopes are ordered: admin implies write implies read."""
        return TOKEN_SCOPES.index(self.scope) >= TOKEN_SCOPES.index(scope)
