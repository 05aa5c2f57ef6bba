"""Alembic is the schema authority: it must reach head and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from web.migrations import heads
from web.models import Base


def test_one_head() -> None:
    assert len(heads()) == 1


def test_models_and_migrations_agree(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_creates_every_table(db_engine: Engine) -> None:
    tables = set(inspect(db_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_series_read_uses_an_index(db_engine: Engine) -> None:
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(db_engine).get_indexes("result")}
    assert indexes["ix_result_series_position"] == ["series_id", "position"]
