"""Erasure removes the person's chat states by the owner the bot records on each row, never by reading keys."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import select

from core.db.engine import create_engine
from core.db.migrate import upgrade
from core.db.models import ChatState


async def test_erasure_removes_the_persons_chat_states_and_no_one_elses(core):
    person = await core.people.register_telegram_user(telegram_id=6201, display_name=None)
    async with core.uow() as uow:
        # The keys are the bot's business: core matches on telegram_id alone.
        uow.session.add(ChatState(key="mine-a", telegram_id=6201, state=None, data={}, updated_at=core.clock()))
        uow.session.add(ChatState(key="mine-b", telegram_id=6201, state="s", data={"x": 1}, updated_at=core.clock()))
        uow.session.add(ChatState(key="1:6201:6202:0:default", telegram_id=6202, state=None, data={},
                                  updated_at=core.clock()))
        await uow.commit()

    await core.privacy.erase(person_id=person.id)

    async with core.uow() as uow:
        left = (await uow.session.scalars(select(ChatState.key))).all()
    assert left == ["1:6201:6202:0:default"]


async def test_the_migration_gives_existing_rows_their_owner(database_url):
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0012")
        async with engine.begin() as connection:
            await connection.execute(sa.text(
                "INSERT INTO chat_states (key, state, data, updated_at) VALUES "
                "('42:6301:6301:0:default', NULL, '{}', CURRENT_TIMESTAMP), "
                "('not-a-bot-key', NULL, '{}', CURRENT_TIMESTAMP)"))
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = dict((await connection.execute(sa.text("SELECT key, telegram_id FROM chat_states"))).all())
        assert rows == {"42:6301:6301:0:default": 6301, "not-a-bot-key": None}
    finally:
        await engine.dispose()
