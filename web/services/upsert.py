"""Insert-if-missing for rows identified by a natural key, safe under concurrent ingest.

``INSERT ... ON CONFLICT DO NOTHING`` then one SELECT works alike on PostgreSQL
and SQLite, and never fails when two submissions create the same benchmark at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from web.models import Base

_CHUNK = 500


def ensure_rows(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
) -> dict[tuple[Any, ...], int]:
    """Make sure every row exists; return ``{key values: id}`` for all of them."""
    if not rows:
        return {}
    unique = list({tuple(row[k] for k in key): row for row in rows}.values())
    table: Table = model.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(table).on_conflict_do_nothing(index_elements=list(key))
    session.execute(statement, unique)
    columns = [table.c[k] for k in key]
    ids: dict[tuple[Any, ...], int] = {}
    wanted = [tuple(row[k] for k in key) for row in unique]
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(table.c.id, *columns).where(tuple_(*columns).in_(chunk))
        for found in session.execute(query):
            ids[tuple(found[1:])] = found[0]
    return ids
