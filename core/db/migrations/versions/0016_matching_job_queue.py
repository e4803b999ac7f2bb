"""matching job queue: a run is asked for (a queued job) and any worker claims it from the database

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UNFINISHED = "finished_at IS NULL AND error IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('matching_jobs', schema=None) as batch_op:
        # What the worker needs to solve it; who holds it (NULL: queued), since when, how many claims.
        batch_op.add_column(sa.Column('time_limit', sa.Float(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('worker', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column(
            'progress', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        # The Telegram chat that asked for it (the bot posts the outcome there once), and when it was posted.
        batch_op.add_column(sa.Column('reply_chat', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True))
        # Workers look for unfinished jobs (queued, or running with a heartbeat): a handful of rows at most.
        batch_op.create_index('ix_matching_jobs_unfinished', ['started_at'], unique=False,
                              sqlite_where=sa.text(UNFINISHED), postgresql_where=sa.text(UNFINISHED))


def downgrade() -> None:
    with op.batch_alter_table('matching_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_matching_jobs_unfinished')
        for column in ('reported_at', 'reply_chat', 'progress', 'attempts', 'claimed_at', 'worker', 'time_limit'):
            batch_op.drop_column(column)
