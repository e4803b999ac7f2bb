"""Several workers on one PostgreSQL: disjoint claims (SKIP LOCKED), and LISTEN/NOTIFY wake-ups."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from core.bootstrap import bootstrap
from core.db.models import OutboxMessage
from tests.support.databases import throwaway_database
from tests.support.outbox import add_person, make_worker, queue, received_messages, smtp_mailer
from tests.support.smtp_server import scripted_smtp_server

ROWS = 1000


@pytest.fixture
async def pg_url(tmp_path):
    async with throwaway_database("postgresql", tmp_path) as url:
        yield url


async def _wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError


async def test_two_workers_drain_a_thousand_rows_each_sent_exactly_once(pg_url, settings_for, clock):
    cores = [bootstrap(settings_for(pg_url), clock=clock) for _ in range(2)]
    await cores[0].prepare()
    now = clock()
    async with cores[0].uow() as uow:
        uow.session.add_all(
            OutboxMessage(kind="review_approved", channel="email", address=f"person{n}@example.cn",
                          idempotency_key=f"bulk:{n}", payload={"application_id": n, "form": "expert",
                          "name": f"专家{n}", "reference": f"E01-{n:06d}", "batch": "第一批", "message": ""},
                          status="queued", due_at=now, attempts=0, created_at=now)
            for n in range(ROWS)
        )
        await uow.commit()

    with scripted_smtp_server() as smtp:
        mailers = [[smtp_mailer(smtp, timeout=5) for _ in range(3)] for _ in cores]
        workers = [make_worker(core, mailers=m, lanes=3, batch_size=25) for core, m in zip(cores, mailers)]
        stop = asyncio.Event()
        runs = [asyncio.create_task(w.run(stop)) for w in workers]

        async def all_sent() -> bool:
            return len(smtp.handler_state.received) >= ROWS

        try:
            await _wait_for(all_sent, timeout=120)
            await asyncio.sleep(0.5)  # anything sent twice would show up now
        finally:
            stop.set()
            await asyncio.gather(*runs)
            for group in mailers:
                for mailer in group:
                    await mailer.aclose()
        ids = Counter(m["Message-ID"] for m in received_messages(smtp))

    try:
        assert len(ids) == ROWS and set(ids.values()) == {1}
        assert workers[0].processed > 0 and workers[1].processed > 0, "both workers took a share"
        assert workers[0].processed + workers[1].processed == ROWS
        async with cores[0].uow() as uow:
            from sqlalchemy import func, select

            counts = dict((await uow.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
            attempts = set((await uow.session.scalars(select(OutboxMessage.attempts))).all())
        assert counts == {"sent": ROWS} and attempts == {1}
    finally:
        for core in cores:
            await core.close()


async def test_notify_wakes_a_listening_worker_long_before_its_poll(pg_url, settings_for, clock):
    core = bootstrap(settings_for(pg_url), clock=clock)
    await core.prepare()
    with scripted_smtp_server() as smtp:
        mailer = smtp_mailer(smtp)
        worker = make_worker(core, mailers=[mailer], listen=True, poll_interval_s=60)
        stop = asyncio.Event()
        run = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.sleep(1.0)  # the lane has polled once and now waits; LISTEN is up
            person = await add_person(core)
            started = time.monotonic()
            await queue(core, person)

            async def delivered() -> bool:
                return len(smtp.handler_state.received) == 1

            await _wait_for(delivered, timeout=10)
            assert time.monotonic() - started < 5
        finally:
            stop.set()
            await run
            await mailer.aclose()
            await core.close()
