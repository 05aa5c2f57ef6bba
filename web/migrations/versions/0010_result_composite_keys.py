"""result composite keys: (run, commit) and (series, benchmark, measure) replace five single keys

A result's commit, benchmark and measure copy its run's and its series', so two
composite keys check the same rows as the five single ones, and check that the
copies agree; a bulk load then checks two keys a row instead of five.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_unique(table: str, columns: Sequence[str]) -> None:
    # A unique index, not a constraint: both engines accept one as a foreign key's
    # target, and SQLite can create one in place, where adding a constraint
    # rebuilds the table; dropping the old run or series (foreign keys on, inside
    # the migration's transaction) would cascade to every result and alert.
    op.create_index(op.f(f"uq_{table}_{'_'.join(columns)}"), table, list(columns), unique=True)


def _drop_unique(table: str, columns: Sequence[str]) -> None:
    op.drop_index(op.f(f"uq_{table}_{'_'.join(columns)}"), table)


@contextmanager
def _profiles_kept() -> Iterator[None]:
    """On SQLite, rebuilding result drops the old table, which deletes its rows
    first; with foreign keys on, that cascades to result_profile. Its rows wait
    in a temporary table and come back once result is whole again (same ids;
    rows that survived, foreign keys being off, are not added twice)."""
    if not _sqlite():
        yield
        return
    op.execute("CREATE TEMP TABLE _profile_0010 AS SELECT * FROM result_profile")
    yield
    op.execute(
        "INSERT INTO result_profile SELECT * FROM _profile_0010"
        " WHERE result_id NOT IN (SELECT result_id FROM result_profile)"
    )
    op.execute("DROP TABLE _profile_0010")


def upgrade() -> None:
    _add_unique("run", _RUN_KEY)
    _add_unique("series", _SERIES_KEY)
    with _profiles_kept(), op.batch_alter_table("result") as batch:
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
    with _profiles_kept(), op.batch_alter_table("result") as batch:
        batch.drop_constraint(op.f("fk_result_run_id_run"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_result_series_id_series"), type_="foreignkey")
        for column, table in _SINGLE.items():
            batch.create_foreign_key(
                op.f(f"fk_result_{column}_{table}"), table, [column], ["id"], ondelete="CASCADE"
            )
    _drop_unique("series", _SERIES_KEY)
    _drop_unique("run", _RUN_KEY)
