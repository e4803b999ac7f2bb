"""outbox priority lane and the SMS channel: outbox.priority, and the index the claim reads in order

Existing rows get their kind's priority (core.domain.outbox) so that queued sign-in codes, if any,
go first at once. The index (status, priority DESC, due_at, id) gives the claim's rows in its order
(WHERE status = 'queued' AND due_at <= now ORDER BY priority DESC, due_at, id LIMIT n) on SQLite and
PostgreSQL alike, so neither sorts the whole queue to find the one urgent row.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# As core.domain.outbox.OUTBOX_PRIORITY stood when this was written (a migration does not follow later code).
_PRIORITIES = {
    "signin_code": 100,
    "channel_paused": 50,
    "match_deadline_tomorrow": 20,
    "workshop_tomorrow": 20,
    "workshop_reminder": 20,
    "match_proposal_waiting": 10,
}


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), server_default=sa.text("0"), nullable=False))
    outbox = sa.table("outbox", sa.column("kind", sa.String), sa.column("priority", sa.SmallInteger))
    for kind, priority in _PRIORITIES.items():
        op.execute(outbox.update().where(outbox.c.kind == kind).values(priority=priority))
    op.create_index("ix_outbox_claim", "outbox", ["status", sa.text("priority DESC"), "due_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_claim", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("priority")
