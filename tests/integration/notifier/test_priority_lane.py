"""The priority lane: a sign-in code queued behind a thousand bulk e-mails is claimed first and goes
out within seconds while the ordinary lanes are busy, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta

from sqlalchemy import insert, text

from core.db.models import OutboxMessage
from notifier.composing import Composer
from notifier.mail.fake import FakeMailer
from notifier.main import notification_service
from notifier.queue import OutboxQueue, claim_pick, new_claim_token
from notifier.sms import FakeSmsSender, PerNumberLimits, SmsChannel
from notifier.worker import OutboxWorker, RetryPolicy, WorkerOptions
from tests.support.outbox import REVIEW_PAYLOAD

BULK_ROWS = 1000


async def queue_bulk(core, count: int = BULK_ROWS) -> None:
    """As the scheduler writes them: one multi-row INSERT, no priority given (it comes from the kind)."""
    now = core.clock()
    rows = [
        {"kind": "review_approved", "channel": "email", "person_id": None, "address": f"p{i}@example.cn",
         "idempotency_key": f"bulk-{i}", "payload": dict(REVIEW_PAYLOAD), "status": "queued",
         "due_at": now - timedelta(minutes=10), "attempts": 0, "created_at": now}
        for i in range(count)
    ]
    async with core.uow() as uow:
        await uow.session.execute(insert(OutboxMessage.__table__), rows)
        await uow.commit()


async def queue_code(core, *, channel: str = "sms", address: str = "13800138000") -> int:
    now = core.clock()
    async with core.uow() as uow:
        row = OutboxMessage(kind="signin_code", channel=channel, address=address, idempotency_key=f"signin-{channel}",
                            payload={"code": "135790"}, status="queued", due_at=now, attempts=0, created_at=now)
        uow.session.add(row)
        await uow.commit()
        return row.id


class SlowMailer(FakeMailer):
    """An SMTP relay taking its time: a batch of 50 keeps a lane busy for seconds."""

    async def send(self, spec):
        await asyncio.sleep(0.05)
        return await super().send(spec)


def make_worker(core, *, mailers, sms_sender: FakeSmsSender, clock=None, lanes: int = 2,
                priority_lanes: int = 1) -> OutboxWorker:
    clock = clock or core.clock
    return OutboxWorker(
        uow=core.uow,
        notifications=notification_service(core, clock),
        composer=Composer(mail_from="noreply@innoeng.test", clock=clock),
        mailers=mailers,
        sms=SmsChannel(sms_sender, template_codes={"signin_code": "SMS_SIGNIN"}, limits=PerNumberLimits()),
        policy=RetryPolicy(),
        options=WorkerOptions(lanes=lanes, batch_size=50, priority_lanes=priority_lanes, poll_interval_s=0.1),
        clock=clock,
        rng=random.Random(7),
    )


async def test_a_sign_in_code_queued_last_is_claimed_first(core):
    await queue_bulk(core)
    code_id = await queue_code(core, channel="email", address="someone@example.cn")

    claim = await OutboxQueue(core.uow, clock=core.clock).claim(
        limit=10, lease_s=60, token=new_claim_token(), channels=("email",))

    assert [r.id for r in claim.rows][0] == code_id
    assert claim.rows[0].priority == 100 and {r.priority for r in claim.rows[1:]} == {0}
    assert [r.idempotency_key for r in claim.rows[1:]] == [f"bulk-{i}" for i in range(9)], "then oldest due, in order"


async def test_the_priority_lane_takes_only_urgent_rows(core):
    await queue_bulk(core, 20)
    queue = OutboxQueue(core.uow, clock=core.clock)
    assert not await queue.claim(limit=10, lease_s=60, token=new_claim_token(), channels=("email", "sms"),
                                 min_priority=100)
    code_id = await queue_code(core)
    claim = await queue.claim(limit=10, lease_s=60, token=new_claim_token(), channels=("email", "sms"), min_priority=100)
    assert [r.id for r in claim.rows] == [code_id]


async def test_the_claim_reads_the_index_in_order(core):
    """The claim's own statement: rows come off ix_outbox_claim in order, no sort of the queue."""
    await queue_bulk(core)
    await queue_code(core)
    async with core.uow() as uow:
        session = uow.session
        postgres = session.bind.dialect.name == "postgresql"
        for min_priority in (None, 100):
            pick = claim_pick(channels=("email", "sms"), now=core.clock() + timedelta(seconds=1), limit=50,
                              min_priority=min_priority, postgres=postgres)
            sql = str(pick.compile(session.bind, compile_kwargs={"literal_binds": True}))
            if postgres:
                await session.execute(text("ANALYZE outbox"))
                plan = "\n".join(r[0] for r in (await session.execute(text(f"EXPLAIN {sql}"))).all())
                assert "ix_outbox_claim" in plan and "Sort" not in plan, plan
            else:
                plan = "\n".join(str(r[-1]) for r in (await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all())
                assert "ix_outbox_claim" in plan and "TEMP B-TREE" not in plan, plan
            assert (await session.execute(pick)).scalars().first() is not None


async def test_a_code_goes_out_within_seconds_while_every_lane_is_busy_with_bulk_mail(core):
    await queue_bulk(core)
    sms = FakeSmsSender()
    mailers = [SlowMailer(), SlowMailer()]
    worker = make_worker(core, mailers=mailers, sms_sender=sms)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        # Both ordinary lanes hold a batch of 50 slow mails (2.5 s each batch).
        while sum(len(m.delivered) for m in mailers) < 4:
            await asyncio.sleep(0.02)
        queued_at = time.monotonic()
        await queue_code(core)
        worker.wake()
        while not sms.sent:
            assert time.monotonic() - queued_at < 3, "the code waited behind the bulk mail"
            await asyncio.sleep(0.02)
        waited = time.monotonic() - queued_at
        mailed = sum(len(m.delivered) for m in mailers)
    finally:
        stop.set()
        await running
    assert sms.sent[0].params == {"code": "135790"}
    assert waited < 1.5 and mailed < 200, (waited, mailed)
