"""fidelity to the notice (issue 12)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_proposals") as batch:
        batch.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("held_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_proposals") as batch:
        batch.drop_column("held_by")
        batch.drop_column("held_at")
