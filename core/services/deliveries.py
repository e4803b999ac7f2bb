"""Telegram updates as they arrive: who sent each one, and whether it was handled before."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import OutboxMessage, Person, ProcessedUpdate
from core.db.upsert import upsert_for
from core.db.uow import UnitOfWorkFactory
from core.services.common import Clock, audit, person_view, utc_now
from core.services.people import add_telegram_identity
from core.services.notifications import QUEUED, SKIPPED
from core.texts import text
from core.services.views import PersonView

__all__ = ["UpdateLog", "Arrival", "REDELIVERY_WINDOW"]

# Telegram keeps an unconfirmed update for 24 hours; a redelivery comes within that and carries the same
# payload. An id seen outside the window, or with another payload, is a new update that reuses the id.
REDELIVERY_WINDOW = timedelta(hours=24)
_PRUNE_EVERY = timedelta(minutes=10)

# Built once: the bot runs these on every update, and building them cost more than running them.
_SEEN_IN_WINDOW = select(ProcessedUpdate.bot_id).where(
    ProcessedUpdate.bot_id == bindparam("bot_id"), ProcessedUpdate.update_id == bindparam("update_id"),
    ProcessedUpdate.digest == bindparam("digest"), ProcessedUpdate.received_at >= bindparam("cutoff"),
).exists()
_SEEN = select(_SEEN_IN_WINDOW)
_PERSON_AND_SEEN = select(Person, _SEEN_IN_WINDOW.label("seen")).where(Person.telegram_id == bindparam("telegram_id"))


@functools.cache  # per dialect, built once
def _record_handled(dialect: str) -> Any:
    """An upsert that takes over the row of this id only when it belongs to another update (another payload,
    or older than the redelivery window): of two workers recording one update, exactly one writes it."""
    table = ProcessedUpdate.__table__  # a table-level insert: its result counts the rows written
    insert = upsert_for(dialect)(table).values(
        bot_id=bindparam("bot_id"), update_id=bindparam("update_id"), received_at=bindparam("received_at"),
        digest=bindparam("digest"))
    return insert.on_conflict_do_update(
        index_elements=[table.c.bot_id, table.c.update_id],
        set_={"digest": insert.excluded.digest, "received_at": insert.excluded.received_at},
        where=(table.c.digest != insert.excluded.digest) | (table.c.received_at < bindparam("cutoff")),
    )


@dataclass(frozen=True)
class Arrival:
    already_handled: bool
    person: PersonView | None


class UpdateLog:
    """One statement per update to learn both facts, one to record it handled.

    An update is identified by (bot, update id, payload digest) within the redelivery window, so the table
    stays bounded: rows past the window are pruned while recording."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock
        self._pruned_at: datetime | None = None

    async def arrive(self, *, bot_id: int, update_id: int, digest: str, telegram_id: int | None) -> Arrival:
        """Nothing personal is stored here: until a person consents, the Telegram id is all we keep.

        A known person's update costs one statement: their record, and whether the update was seen."""
        now = self._clock()
        params = {"bot_id": bot_id, "update_id": update_id, "digest": digest, "cutoff": now - REDELIVERY_WINDOW}
        async with self._uow.autocommit() as uow:
            if telegram_id is not None:
                known = (await uow.session.execute(_PERSON_AND_SEEN, {**params, "telegram_id": telegram_id})).first()
                if known is not None:
                    return Arrival(True, None) if known.seen else Arrival(False, person_view(known.Person))
            if await uow.session.scalar(_SEEN, params):
                return Arrival(True, None)
            if telegram_id is None:
                return Arrival(False, None)
        async with self._uow() as uow:
            person = Person(telegram_id=telegram_id, preferred_channel="both", locale="zh-CN", created_at=now)
            uow.people.add(person)
            await uow.flush()
            add_telegram_identity(uow, person, now)
            audit(uow, at=now, actor=f"person:{person.id}", action="person.register", subject=f"person:{person.id}")
            try:
                await uow.commit()
            except IntegrityError:  # the same person's other update registered them a moment ago
                return Arrival(False, await self._existing(telegram_id))
            return Arrival(False, person_view(person))

    async def _existing(self, telegram_id: int) -> PersonView | None:
        async with self._uow() as uow:
            person = await uow.people.get_by_telegram_id(telegram_id)
            return person_view(person) if person else None

    async def receipt_given_in_chat(self, *, person_id: int, application_id: int) -> bool:
        """The bot answers a submit with the receipt itself, so the queued Telegram copy of it is not sent too
        (one receipt per channel; the e-mail stays). False when the notifier already took that copy: then it
        is the receipt, and the bot should not send a second one."""
        async with self._uow() as uow:
            rows = (await uow.session.scalars(select(OutboxMessage).where(
                OutboxMessage.person_id == person_id, OutboxMessage.kind == "submission_receipt",
                OutboxMessage.channel == "telegram",
            ))).all()
            mine = [row.id for row in rows if row.payload.get("application_id") == application_id]
            if not mine:
                return True
            # The newest row is this submission's; older ones belong to earlier submissions (a resubmit).
            result = await uow.session.execute(
                update(OutboxMessage).where(OutboxMessage.id == max(mine), OutboxMessage.status == QUEUED)
                .values(status=SKIPPED, last_error=text("outbox.skipped.receipt_in_chat"))
            )
            await uow.commit()
            return result.rowcount == 1

    async def handled(self, *, bot_id: int, update_id: int, digest: str) -> bool:
        """Records the update as handled; False when another worker recorded it first."""
        now = self._clock()
        async with self._uow.autocommit() as uow:
            if self._pruned_at is None or now - self._pruned_at >= _PRUNE_EVERY:
                await uow.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < now - REDELIVERY_WINDOW))
                self._pruned_at = now
            result = await uow.session.execute(_record_handled(uow.session.bind.dialect.name), {
                "bot_id": bot_id, "update_id": update_id, "received_at": now, "digest": digest,
                "cutoff": now - REDELIVERY_WINDOW,
            })
            return result.rowcount == 1
