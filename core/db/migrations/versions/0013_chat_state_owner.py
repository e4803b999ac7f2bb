"""chat states name their owner: chat_states.telegram_id, so erasure finds a person's rows without reading the key

Rows written before this revision get the id from their key; the key's layout is aiogram's as the bot wrote
it up to now (bot:chat:user:thread:destiny), read here once and nowhere in core after.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telegram_id', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_chat_states_telegram_id'), ['telegram_id'], unique=False)

    chat_states = sa.table('chat_states', sa.column('key', sa.String()), sa.column('telegram_id', sa.BigInteger()))
    connection = op.get_bind()
    owners = []
    for (key,) in connection.execute(sa.select(chat_states.c.key)):
        parts = key.split(':')
        if len(parts) == 5 and parts[2].isascii() and parts[2].isdigit():
            owners.append({'row_key': key, 'owner': int(parts[2])})
    if owners:
        connection.execute(
            chat_states.update().where(chat_states.c.key == sa.bindparam('row_key'))
            .values(telegram_id=sa.bindparam('owner')),
            owners,
        )


def downgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_states_telegram_id'))
        batch_op.drop_column('telegram_id')
