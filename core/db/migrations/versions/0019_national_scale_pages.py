"""the console at national scale (issue 23 part 4): the pool per course from the index of a batch's figures; the
audit log's actions from an index; the resource pool filtered by province (where experts are, or where they
would teach offline) from indexes instead of reading every approved expert's answers

- applications.courses_mask: the core courses indexed in expert_courses at the last submission, a bit each
  (core.domain.courses.course_mask), filled here from expert_courses; ix_applications_figures takes it, so the
  dashboard counts the pool per course in the same index-only scan as the counts per status (it joined 60,000
  approved experts to their 95,000 courses at 100,000 experts);
- ix_audit_log_action: the action filter's list of actions, one index step per distinct action (a loose index
  scan) instead of a SELECT DISTINCT over the whole log;
- ix_applications_pool_province: approved experts of a province;
- ix_applications_offline_provinces (PostgreSQL): a GIN index on answers -> 'offline_provinces', which the pool's
  containment test (answers -> 'offline_provinces' @> '["广东"]') reads; with the one above, the filter is a
  BitmapOr of two index scans. SQLite has no index over the members of a JSON list: there the test stays
  json_each per row (the embedded database serves small installations).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# core.domain.courses.COURSE_BITS as it stands at this revision (a migration does not follow later code).
_COURSE_BITS = {"创新思维": 1, "产品创新方法": 2, "技术创新方法": 4, "创新管理": 8}


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('courses_mask', sa.SmallInteger(), server_default='0', nullable=False))
    bits = " ".join(f"WHEN '{course}' THEN {bit}" for course, bit in _COURSE_BITS.items())
    op.execute(
        "UPDATE applications SET courses_mask = (SELECT COALESCE(SUM(CASE expert_courses.course "
        f"{bits} ELSE 0 END), 0) FROM expert_courses WHERE expert_courses.application_id = applications.id) "
        "WHERE applications.id IN (SELECT application_id FROM expert_courses)")
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_figures')
        batch_op.create_index('ix_applications_figures',
                              ['batch_id', 'form', 'status', 'province', 'courses_mask', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_applications_pool_province', ['form', 'status', 'province'], unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action', ['action'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_applications_offline_provinces ON applications USING gin ((answers -> 'offline_provinces'))")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_applications_offline_provinces")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_action')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_pool_province')
        batch_op.drop_index('ix_applications_figures')
        batch_op.create_index('ix_applications_figures', ['batch_id', 'form', 'status', 'province', 'submitted_at', 'id'],
                              unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('courses_mask')
