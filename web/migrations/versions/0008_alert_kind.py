"""alert kind: a step at one commit, or a drift over a range of commits (and its end)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="step")
        )
        batch.add_column(
            sa.Column(
                "end_commit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch.create_foreign_key(
            op.f("fk_alert_end_commit_id_commit"), "commit", ["end_commit_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_constraint(op.f("fk_alert_end_commit_id_commit"), type_="foreignkey")
        batch.drop_column("end_commit_id")
        batch.drop_column("kind")
