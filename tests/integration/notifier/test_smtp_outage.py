"""A two-hour SMTP outage (connections refused), lived through on an injected clock by two
workers: nothing fails, and afterwards everything drains exactly once. A deadline reminder that
would now arrive after its deadline is dropped as stale instead."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.bootstrap import bootstrap
from core.db.models import OutboxMessage
from notifier.main import notification_service
from tests.support.net import free_port
from tests.support.outbox import add_person, make_worker, outbox_rows, received_messages
from tests.support.smtp_server import ScriptedController, ScriptedHandler
from notifier.mail import SmtpMailer, SmtpSettings

ROWS = 30
BEIJING = ZoneInfo("Asia/Shanghai")


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, from_address="noreply@innoeng.test",
                                   start_tls=False, timeout=2))


async def test_two_hours_of_refused_connections_delay_mail_but_lose_none(database_url, settings_for, clock):
    # Registration closes at the end of 2025-08-15 (settings_for); a same-day reminder is due at
    # 22:00 and the outage starts then: by the time mail flows again the deadline has passed.
    clock.now = datetime(2025, 8, 15, 22, 0, tzinfo=BEIJING).astimezone(timezone.utc)
    settings = settings_for(database_url, reminder_hour=22, deadline_reminder_days=[0])
    cores = [bootstrap(settings, clock=clock) for _ in range(2)]
    core = cores[0]
    await core.prepare()
    now = clock()
    async with core.uow() as uow:
        uow.session.add_all(
            OutboxMessage(kind="review_approved", channel="email", address=f"person{n}@example.cn",
                          idempotency_key=f"outage:{n}", payload={"application_id": n, "form": "expert",
                          "name": f"专家{n}", "reference": f"E01-{n:06d}", "batch": "第一批", "message": ""},
                          status="queued", due_at=now, attempts=0, created_at=now)
            for n in range(ROWS)
        )
        await uow.commit()
    person = await add_person(core, name="王五", email="wang@example.cn")
    await core.people.give_consent(person_id=person)
    await core.intake.start(person_id=person, form="expert")

    port = free_port()  # nothing listens here yet: every connection is refused
    mailers = [_mailer(port), _mailer(port)]
    workers = [make_worker(c, mailers=[m], clock=clock) for c, m in zip(cores, mailers)]
    notifications = notification_service(core)
    try:
        outage_ends = clock() + timedelta(hours=2)
        while clock() < outage_ends:
            await notifications.schedule_deadline_reminders()
            for worker in workers:
                await worker.drain()
            clock.advance(minutes=5)
        during = Counter(r.status for r in await outbox_rows(core))
        assert during == {"queued": ROWS + 1}, during
        assert min(r.attempts for r in await outbox_rows(core, kind="review_approved")) >= 5

        handler = ScriptedHandler()
        server = ScriptedController(handler, hostname="127.0.0.1", port=port)
        server.start()
        server.handler_state = handler
        try:
            # Backoff has grown to about an hour: within the next ~75 minutes every row is retried.
            for _ in range(20):
                clock.advance(minutes=5)
                for worker in workers:
                    await worker.drain()
            delivered = Counter(m["Message-ID"] for m in received_messages(server))
        finally:
            server.stop()
        rows = await outbox_rows(core)
    finally:
        for mailer in mailers:
            await mailer.aclose()
        for c in cores:
            await c.close()

    by_kind = {r.kind: r for r in rows}
    assert Counter(r.status for r in rows if r.kind == "review_approved") == {"sent": ROWS}
    assert len(delivered) == ROWS and set(delivered.values()) == {1}
    reminder = by_kind["deadline_reminder"]
    assert reminder.status == "skipped" and "报名已截止" in reminder.last_error
