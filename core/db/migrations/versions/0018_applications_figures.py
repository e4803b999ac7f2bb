"""a batch's figures from an index: the dashboard, /stats and the digest count a batch's applications by form,
status and province, per day of submission and per course; at 100,000 applications each count read the whole
table (answers and all) and the dashboard took 621 ms; and the resource pool by priority, a page at a time,
which sorted every approved expert of a course for each page

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_figures', ['batch_id', 'form', 'status', 'province', 'submitted_at', 'id'],
                              unique=False)
    op.create_index('ix_applications_pool', 'applications',
                    ['form', 'status', sa.text('priority_score DESC'), 'submitted_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_applications_pool', table_name='applications')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_figures')
