"""notifier: events with invitations (RSVP), outbox claim bookkeeping, NOTIFY on outbox inserts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The channel the notifier LISTENs on; notifier.worker uses the same name.
OUTBOX_CHANNEL = "innoeng_outbox"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_status_starts_at", ["status", "starts_at"], unique=False)

    op.create_table(
        "event_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rsvp", sa.String(length=16), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_invitations_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_event_invitations_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_invitations")),
        sa.UniqueConstraint("event_id", "person_id", name="uq_event_invitations_event_person"),
    )
    with op.batch_alter_table("event_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_invitations_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_invitations_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        # One NOTIFY per inserting statement (not per row): a service's transaction wakes the
        # workers once, when it commits; NOTIFY is transactional, so a rollback wakes nobody.
        op.execute(
            f"""
            CREATE FUNCTION innoeng_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{OUTBOX_CHANNEL}', '');
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            """
            CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
            FOR EACH STATEMENT EXECUTE FUNCTION innoeng_outbox_notify()
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS innoeng_outbox_notify()")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("give_up_at")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("claim_token")

    with op.batch_alter_table("event_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_invitations_person_id"))
        batch_op.drop_index(batch_op.f("ix_event_invitations_event_id"))
    op.drop_table("event_invitations")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_status_starts_at")
    op.drop_table("events")
