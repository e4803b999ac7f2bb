"""matching jobs: the console's background solves, kept in the database so that a restart does not forget them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UNFINISHED = "finished_at IS NULL AND error IS NULL"


def upgrade() -> None:
    op.create_table('matching_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('staff', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_matching_jobs_batch_id_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_matching_jobs_run_id_match_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_jobs'))
    )
    with op.batch_alter_table('matching_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matching_jobs_batch_id'), ['batch_id'], unique=False)
        # One unfinished job per batch: two staff pressing 开始匹配 at once get one solve, not two.
        batch_op.create_index('uq_matching_jobs_one_running_per_batch', ['batch_id'], unique=True,
                              sqlite_where=sa.text(UNFINISHED), postgresql_where=sa.text(UNFINISHED))


def downgrade() -> None:
    with op.batch_alter_table('matching_jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_matching_jobs_one_running_per_batch')
        batch_op.drop_index(batch_op.f('ix_matching_jobs_batch_id'))
    op.drop_table('matching_jobs')
