"""A worker that vanishes mid-batch (as under kill -9: nothing after that moment is written) leaves
the rows it had put an attempt on record for as `unknown`, never resent by another worker; rows
it had not reached go out once. On SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

from notifier.mail import FakeMailer
from notifier.main import notification_service
from tests.support.outbox import add_person, make_worker, outbox_rows, queue


class HangingMailer(FakeMailer):
    """Accepts the first sends, then hangs inside the third as a slow relay would."""

    def __init__(self, hang_at: int) -> None:
        super().__init__()
        self.hang_at = hang_at
        self.hanging = asyncio.Event()

    async def send(self, spec):
        if len(self.attempts) + 1 == self.hang_at:
            self.attempts.append(spec)
            self.hanging.set()
            await asyncio.Event().wait()
        return await super().send(spec)


async def _vanish_mid_send(core, clock, *, rows: int, hang_at: int) -> HangingMailer:
    person = await add_person(core)
    for n in range(rows):
        await queue(core, person, occasion=f"crash-{n}")
    mailer = HangingMailer(hang_at)
    worker = make_worker(core, mailers=[mailer], lease_s=60)

    async def nothing(*_args, **_kwargs):  # a killed process writes nothing more
        return None

    worker._finish = nothing
    task = asyncio.create_task(worker.process_batch())
    await asyncio.wait_for(mailer.hanging.wait(), timeout=10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    clock.advance(seconds=61)  # the lease runs out
    return mailer


async def test_rows_with_an_attempt_on_record_become_unknown_and_are_not_resent(core, clock):
    first = await _vanish_mid_send(core, clock, rows=15, hang_at=3)
    second = FakeMailer()
    await make_worker(core, mailers=[second]).drain()

    rows = await outbox_rows(core)
    unknown = [r for r in rows if r.status == "unknown"]
    sent = [r for r in rows if r.status == "sent"]
    # The first chunk (ten rows) had its attempts on record; the rest had not been reached.
    assert len(unknown) == 10 and len(sent) == 5
    assert all(r.attempts == 1 and "中断" in r.last_error and r.last_attempt_at for r in unknown)
    resent = {spec.message_id for spec in second.attempts} & {spec.message_id for spec in first.attempts}
    assert resent == set(), "a row that may have arrived was sent again"
    assert len(second.attempts) == 5

    # A person checked one of them and decides to send it again: it goes out once.
    retried = unknown[0].id
    assert await notification_service(core).retry(message_ids=[retried], actor="staff:1") == 1
    await make_worker(core, mailers=[second]).drain()
    again = next(r for r in await outbox_rows(core) if r.id == retried)
    assert again.status == "sent" and again.attempts == 1 and again.attempt_started_at is None
    assert len(second.attempts) == 6


async def test_a_worker_stopped_cleanly_hands_back_what_it_had_not_started(core, clock):
    person = await add_person(core)
    for n in range(15):
        await queue(core, person, occasion=f"stop-{n}")
    stop = asyncio.Event()
    mailer = FakeMailer()
    original = mailer.send

    async def send_then_stop(spec):
        if len(mailer.attempts) == 2:
            stop.set()
        return await original(spec)

    mailer.send = send_then_stop
    await make_worker(core, mailers=[mailer]).process_batch(stop=stop)
    rows = await outbox_rows(core)
    assert sum(r.status == "sent" for r in rows) == 3
    handed_back = [r for r in rows if r.status == "queued"]
    # Their attempts had been put on record but never begun: taken back, not unknown.
    assert len(handed_back) == 12 and {(r.attempts, r.attempt_started_at) for r in handed_back} == {(0, None)}
