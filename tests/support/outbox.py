"""Helpers for notifier tests: people to notify, rows in the outbox, a worker on a test SMTP server."""
from __future__ import annotations

import random
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from sqlalchemy import select

from core.bootstrap import Core
from core.db.models import OutboxMessage, Person
from core.services.common import queue_notification
from notifier.composing import Composer
from notifier.mail import Mailer, SmtpMailer, SmtpSettings
from notifier.main import notification_service
from notifier.telegram import TelegramTransport
from notifier.worker import OutboxWorker, RetryPolicy, WorkerOptions

__all__ = [
    "REVIEW_PAYLOAD",
    "add_person",
    "queue",
    "outbox_rows",
    "row",
    "smtp_mailer",
    "make_worker",
    "received_messages",
]

MAIL_FROM = "noreply@innoeng.test"

REVIEW_PAYLOAD = {
    "application_id": 42, "form": "expert", "name": "张三", "reference": "E01-000042", "batch": "第一批",
    "message": "",
}


async def add_person(core: Core, *, name: str = "张三", email: str | None = "zhang@example.cn",
                     telegram_id: int | None = None, channel: str = "email") -> int:
    async with core.uow() as uow:
        person = Person(display_name=name, email=email, telegram_id=telegram_id, preferred_channel=channel,
                        locale="zh-CN", created_at=core.clock())
        uow.people.add(person)
        await uow.commit()
        return person.id


async def queue(core: Core, person_id: int, *, kind: str = "review_approved", occasion: str = "t1",
                payload: dict[str, Any] | None = None, due_in: timedelta | None = None) -> list[int]:
    now = core.clock()
    async with core.uow() as uow:
        person = await uow.people.get(person_id)
        rows = await queue_notification(
            uow, kind=kind, person=person, occasion=occasion, payload=payload or dict(REVIEW_PAYLOAD), now=now,
            due_at=now + due_in if due_in else None,
        )
        await uow.commit()
        return [r.id for r in rows]


async def outbox_rows(core: Core, *, kind: str | None = None) -> list[OutboxMessage]:
    async with core.uow() as uow:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        rows = list((await uow.session.scalars(stmt)).all())
        uow.session.expunge_all()  # readable after the unit of work rolls back
        return rows


async def row(core: Core, row_id: int) -> OutboxMessage:
    async with core.uow() as uow:
        found = await uow.session.get(OutboxMessage, row_id)
        uow.session.expunge_all()
        return found


def smtp_mailer(controller, *, timeout: float = 0.5) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(
        host="127.0.0.1", port=controller.port, from_address=MAIL_FROM, from_name="中国创造学会创新工程学分会",
        start_tls=False, timeout=timeout, local_hostname="worker.innoeng.test",
    ))


def make_worker(core: Core, *, mailers: list[Mailer], telegram: TelegramTransport | None = None,
                clock=None, lanes: int = 1, batch_size: int = 50, lease_s: float = 300.0,
                max_age: timedelta = timedelta(hours=72), listen: bool = False, poll_interval_s: float = 0.2,
                reply_to: str | None = None, channel_probe_s: float = 300.0) -> OutboxWorker:
    clock = clock or core.clock
    from notifier.worker import postgres_listen_dsn

    return OutboxWorker(
        uow=core.uow,
        notifications=notification_service(core, clock),
        composer=Composer(mail_from=MAIL_FROM, reply_to=reply_to, clock=clock),
        mailers=mailers,
        telegram=telegram,
        policy=RetryPolicy(max_age=max_age, base_s=30, max_s=3600, channel_probe_s=channel_probe_s),
        options=WorkerOptions(lanes=lanes, batch_size=batch_size, lease_s=lease_s, poll_interval_s=poll_interval_s),
        clock=clock,
        listen_dsn=postgres_listen_dsn(core.engine.url) if listen else None,
        rng=random.Random(7),
    )


def received_messages(controller) -> list[EmailMessage]:
    return [message_from_bytes(m["content"], policy=default_policy) for m in controller.handler_state.received]
