"""The one settings and session helper of the commands.

Settings come from the environment, overridden by a command's ``--database-url``
and ``--broker-url``; a command that reads a service's database passes
``existing=True`` and gets a clear error, instead of an empty new SQLite file,
when there is none.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypeAlias

from sqlalchemy.orm import Session, sessionmaker

from web.config import Settings, SettingsError
from web.db import make_engine, make_sessionmaker, session_scope

# what `add_subparsers()` returns: each command module adds its parsers to one
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def settings_from(args: argparse.Namespace, *, existing: bool = False) -> Settings:
    """Settings from the environment and the command's URL options.

    With ``existing``, a SQLite database must already be there (``BENCHWARDEN_DATA_DIR``
    unset, say, would otherwise point at a fresh ``./.benchwarden``).
    """
    settings = Settings.from_env()
    if getattr(args, "database_url", None):
        settings = replace(settings, database_url=args.database_url)
    if getattr(args, "broker_url", None):
        settings = replace(settings, broker_url=args.broker_url)
    if existing and settings.database_url.startswith("sqlite:///"):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        if not database.is_file():
            raise SettingsError(
                f"no benchwarden database at {database}: set BENCHWARDEN_DATA_DIR to the"
                " data directory of `benchwarden up` (or BENCHWARDEN_DATABASE_URL to the"
                " service's database)"
            )
    return settings


def ensure_data_dir(settings: Settings) -> None:
    """Create the data directory a SQLite database (and the embedded broker) lives in."""
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)


def sessions(settings: Settings) -> sessionmaker[Session]:
    """A session factory on its own engine; `dispose` it when the command ends."""
    ensure_data_dir(settings)
    return make_sessionmaker(make_engine(settings.database_url))


def dispose(factory: sessionmaker[Session]) -> None:
    factory.kw["bind"].dispose()


@contextmanager
def transaction(args: argparse.Namespace, *, existing: bool = False) -> Iterator[Session]:
    """One committed transaction on the command's database, its engine closed after."""
    factory = sessions(settings_from(args, existing=existing))
    try:
        with session_scope(factory) as session:
            yield session
    finally:
        dispose(factory)


def actor() -> str:
    """Who runs a CLI admin command, for the audit log: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"
