"""job progress: confirmation verdicts and bisection state move out of job.spec

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = (
    sa.JSON().with_variant(postgresql.JSONB(), "postgresql").with_variant(sqlite.JSON(), "sqlite")
)
# What a job found, as opposed to what its runner was told (web.models.job_progress).
_PROGRESS = (
    "run_ids",
    "alert_ids",
    "retries",
    "confirmation",
    "comparison",
    "verify",
    "lo",
    "hi",
    "steps",
    "samples",
    "verify_samples",
    "benchmark_id",
    "measure_id",
    "lower_is_better",
    "expected",
    "alert_change",
    "culprit",
    "range",
    "reason",
)
# A bisection's controller is never sent to a runner: its whole spec was progress.
_CONTROLLER = (*_PROGRESS, "commits", "repeats", "benchmark")

_job = sa.table(
    "job",
    sa.column("id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("parent_job_id", sa.BigInteger),
    sa.column("spec", _JSON),
    sa.column("progress", _JSON),
)


def _split(spec: dict[str, Any], keys: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    kept = {k: v for k, v in spec.items() if k not in keys}
    moved = {k: v for k, v in spec.items() if k in keys}
    return kept, moved


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("progress", _JSON, nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(_job.c.id, _job.c.kind, _job.c.parent_job_id, _job.c.spec))
    for job_id, kind, parent, spec in rows.all():
        controller = kind == "bisect" and parent is None
        kept, moved = _split(dict(spec or {}), _CONTROLLER if controller else _PROGRESS)
        if controller:
            kept = {k: v for k, v in kept.items() if k == "job_id"}
        connection.execute(
            _job.update().where(_job.c.id == job_id).values(spec=kept, progress=moved)
        )
    with op.batch_alter_table("job") as batch:
        batch.alter_column("progress", existing_type=_JSON, nullable=False)


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_job.c.id, _job.c.spec, _job.c.progress))
    for job_id, spec, progress in rows.all():
        merged = {**(spec or {}), **(progress or {})}
        connection.execute(_job.update().where(_job.c.id == job_id).values(spec=merged))
    with op.batch_alter_table("job") as batch:
        batch.drop_column("progress")
