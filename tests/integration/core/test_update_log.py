"""Which Telegram updates count as handled: same id and payload within 24 h; the table stays bounded."""
from __future__ import annotations

from sqlalchemy import func, select

from core.db.models import Person, ProcessedUpdate

BOT = 1000000001


async def _rows(core) -> int:
    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(ProcessedUpdate))


async def test_a_redelivery_is_dropped_and_a_new_update_reusing_the_id_is_handled(core, clock):
    log = core.updates
    first = await log.arrive(bot_id=BOT, update_id=100001, digest="a" * 64, telegram_id=77)
    assert not first.already_handled and first.person is not None
    assert await log.handled(bot_id=BOT, update_id=100001, digest="a" * 64)
    assert (await log.arrive(bot_id=BOT, update_id=100001, digest="a" * 64, telegram_id=77)).already_handled
    assert not await log.handled(bot_id=BOT, update_id=100001, digest="a" * 64)
    # a restarted server numbering from the start again: same id, another payload
    reused = await log.arrive(bot_id=BOT, update_id=100001, digest="b" * 64, telegram_id=77)
    assert not reused.already_handled
    assert await log.handled(bot_id=BOT, update_id=100001, digest="b" * 64)
    assert (await log.arrive(bot_id=BOT, update_id=100001, digest="b" * 64, telegram_id=77)).already_handled


async def test_the_same_payload_after_the_24_hour_window_is_new_and_old_rows_are_pruned(core, clock):
    log = core.updates
    for update_id in range(1, 6):
        await log.arrive(bot_id=BOT, update_id=update_id, digest="c" * 64, telegram_id=78)
        assert await log.handled(bot_id=BOT, update_id=update_id, digest="c" * 64)
    assert await _rows(core) == 5
    clock.advance(hours=25)
    assert not (await log.arrive(bot_id=BOT, update_id=1, digest="c" * 64, telegram_id=78)).already_handled
    assert await log.handled(bot_id=BOT, update_id=1, digest="c" * 64)
    assert await _rows(core) == 1


async def test_arrival_before_consent_stores_no_name(core):
    arrival = await core.updates.arrive(bot_id=BOT, update_id=9, digest="d" * 64, telegram_id=79)
    async with core.uow() as uow:
        person = await uow.session.get(Person, arrival.person.id)
        assert person.telegram_id == 79
        assert person.display_name is None and person.email is None and person.mobile is None


async def test_of_workers_recording_one_update_at_once_exactly_one_records_it(core):
    import asyncio

    log = core.updates
    await log.arrive(bot_id=BOT, update_id=555, digest="e" * 64, telegram_id=80)
    recorded = await asyncio.gather(*(log.handled(bot_id=BOT, update_id=555, digest="e" * 64) for _ in range(6)))
    assert sorted(recorded) == [False] * 5 + [True]
    assert (await log.arrive(bot_id=BOT, update_id=555, digest="e" * 64, telegram_id=80)).already_handled


async def test_a_known_persons_arrival_is_one_statement(core):
    from sqlalchemy import event

    await core.updates.arrive(bot_id=BOT, update_id=556, digest="f" * 64, telegram_id=81)  # registers them
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(core.engine.sync_engine, "before_cursor_execute", listener)
    try:
        arrival = await core.updates.arrive(bot_id=BOT, update_id=557, digest="f" * 64, telegram_id=81)
    finally:
        event.remove(core.engine.sync_engine, "before_cursor_execute", listener)
    assert arrival.person is not None and not arrival.already_handled
    assert len(statements) == 1, statements
