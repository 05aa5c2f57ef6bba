"""result composite keys: (run, commit) and (series, benchmark, measure) replace five single keys

A result's commit, benchmark and measure copy its run's and its series', so two
composite keys check the same rows as the five single ones, and check that the
copies agree; a bulk load then checks two keys a row instead of five.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUN_KEY = ("id", "commit_id")
_SERIES_KEY = ("id", "benchmark_id", "measure_id")
# The single keys of 0001, named as the naming convention names them.
_SINGLE = {
    "run_id": "run",
    "series_id": "series",
    "benchmark_id": "benchmark",
    "measure_id": "measure",
    "commit_id": "commit",
}


def _add_unique(table: str, columns: Sequence[str]) -> None:
    # A unique index, not a constraint: both engines accept one as a foreign key's
    # target, and SQLite creates one in place, where adding a constraint rebuilds
    # the whole table (see web/migrations/env.py on rebuilding tables).
    op.create_index(op.f(f"uq_{table}_{'_'.join(columns)}"), table, list(columns), unique=True)


def _drop_unique(table: str, columns: Sequence[str]) -> None:
    op.drop_index(op.f(f"uq_{table}_{'_'.join(columns)}"), table)


def upgrade() -> None:
    _add_unique("run", _RUN_KEY)
    _add_unique("series", _SERIES_KEY)
    with op.batch_alter_table("result") as batch:
        for column, table in _SINGLE.items():
            batch.drop_constraint(op.f(f"fk_result_{column}_{table}"), type_="foreignkey")
        batch.create_foreign_key(
            op.f("fk_result_run_id_run"),
            "run",
            ["run_id", "commit_id"],
            list(_RUN_KEY),
            ondelete="CASCADE",
        )
        batch.create_foreign_key(
            op.f("fk_result_series_id_series"),
            "series",
            ["series_id", "benchmark_id", "measure_id"],
            list(_SERIES_KEY),
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("result") as batch:
        batch.drop_constraint(op.f("fk_result_run_id_run"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_result_series_id_series"), type_="foreignkey")
        for column, table in _SINGLE.items():
            batch.create_foreign_key(
                op.f(f"fk_result_{column}_{table}"), table, [column], ["id"], ondelete="CASCADE"
            )
    _drop_unique("series", _SERIES_KEY)
    _drop_unique("run", _RUN_KEY)
