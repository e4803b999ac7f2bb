"""two-way matching: experts' preferences over universities, pairs held by staff

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
    op.create_table(
        "expert_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_application_id", sa.Integer(), nullable=False),
        sa.Column("university_application_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=20), nullable=False),
        sa.Column("want_rank", sa.Integer(), nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["expert_application_id"], ["applications.id"],
                                name=op.f("fk_expert_preferences_expert_application_id_applications"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["university_application_id"], ["applications.id"],
                                name=op.f("fk_expert_preferences_university_application_id_applications"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_preferences")),
        sa.UniqueConstraint("expert_application_id", "university_application_id", name="uq_expert_preferences_pair"),
    )
    op.create_index(op.f("ix_expert_preferences_expert_application_id"), "expert_preferences",
                    ["expert_application_id"], unique=False)
    with op.batch_alter_table("match_proposals") as batch:
        batch.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("held_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_proposals") as batch:
        batch.drop_column("held_by")
        batch.drop_column("held_at")
    op.drop_index(op.f("ix_expert_preferences_expert_application_id"), table_name="expert_preferences")
    op.drop_table("expert_preferences")
