"""Programmatic access to the Alembic migrations (`benchwarden db upgrade`, tests).

The migration scripts (``env.py``, ``versions/``) are package data of this
package, found through importlib.resources, so an installed wheel migrates
exactly as a checkout does; ``alembic.ini`` at the repository root points the
``alembic`` command here for developers.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection


def script_location() -> Path:
    """The directory holding ``env.py`` and ``versions/`` (a real directory: Alembic
    loads the scripts by file path, so a zipped install is not supported)."""
    location = Path(str(files(__name__)))
    if not (location / "env.py").is_file():
        raise FileNotFoundError(f"the migration scripts are missing from {location}")
    return location


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
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
