"""Programmatic access to the Alembic migrations (`benchwarden db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from alembic import command

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if database_url:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str | None = None, connection: Connection | None = None) -> None:
    """Bring the database to the newest revision; safe to run repeatedly."""
    command.upgrade(alembic_config(database_url, connection), "head")


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
