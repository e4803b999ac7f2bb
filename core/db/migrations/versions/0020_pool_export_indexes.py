"""the pool filtered by course and province (issue 23 part 4: the /pool.xlsx staff download) from indexes, reading
only the approved experts it returns instead of every approved expert of the province

- ix_applications_pool_province takes courses_mask after the province: with the course as the masks that hold
  its bit (courses_mask IN (...), core.services.queue), the local side of the province filter is one index range
  per mask, already narrowed to the course, instead of every approved expert of the province joined to the
  42,000 expert_courses rows of the course (at 100,000 experts);
- ix_applications_pool_offline_provinces (PostgreSQL): the GIN index of where experts would teach offline,
  over the approved experts only (the pool is all that filters by it): the offline side of the filter no
  longer fetches the 40 % of the province's matches that are drafts, submissions or rejections only to drop
  them (2,401 of 6,000 rows for 广东), and the index is a tenth of the size. ix_applications_offline_provinces
  (0019) stays: a containment test without the pool's form and status still reads it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""
from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_pool_province')
        batch_op.create_index('ix_applications_pool_province', ['form', 'status', 'province', 'courses_mask'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_applications_pool_offline_provinces ON applications USING gin "
                   "((answers -> 'offline_provinces')) WHERE form = 'expert' AND status = 'approved'")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_applications_pool_offline_provinces")
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_pool_province')
        batch_op.create_index('ix_applications_pool_province', ['form', 'status', 'province'], unique=False)
