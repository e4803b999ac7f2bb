"""person identities, web sign-in codes and sessions: a person is not a Telegram user

Every existing people.telegram_id becomes a verified 'telegram' identity (verified when the person was
registered); people.telegram_id stays for now (the bot reads it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('identifier', sa.String(length=254), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_identities_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_identities')),
    sa.UniqueConstraint('channel', 'identifier', name='uq_person_identities_channel_identifier')
    )
    with op.batch_alter_table('person_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_identities_person_id'), ['person_id'], unique=False)

    op.create_table('signin_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_for', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_codes'))
    )
    with op.batch_alter_table('signin_codes', schema=None) as batch_op:
        batch_op.create_index('ix_signin_codes_address', ['channel', 'address', 'created_at'], unique=False)
        batch_op.create_index('ix_signin_codes_ip', ['ip', 'created_at'], unique=False)

    op.create_table('signin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_failures'))
    )
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_failures_at'), ['at'], unique=False)
        batch_op.create_index('ix_signin_failures_ip_at', ['ip', 'at'], unique=False)

    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_web_sessions_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_person_id'), ['person_id'], unique=False)

    # Everybody the bot registered so far: their Telegram account is their first identity.
    op.execute(sa.text(
        "INSERT INTO person_identities (person_id, channel, identifier, verified_at, created_at) "
        "SELECT id, 'telegram', CAST(telegram_id AS VARCHAR(254)), created_at, created_at "
        "FROM people WHERE telegram_id IS NOT NULL"
    ))


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_person_id'))
    op.drop_table('web_sessions')
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_signin_failures_ip_at')
        batch_op.drop_index(batch_op.f('ix_signin_failures_at'))
    op.drop_table('signin_failures')
    with op.batch_alter_table('signin_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_signin_codes_ip')
        batch_op.drop_index('ix_signin_codes_address')
    op.drop_table('signin_codes')
    with op.batch_alter_table('person_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_identities_person_id'))
    op.drop_table('person_identities')
