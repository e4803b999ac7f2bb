"""Telegram updates as they arrive: who sent each one, and whether it was handled before."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import OutboxMessage, Person, ProcessedUpdate
from core.db.uow import UnitOfWorkFactory
from core.services.common import Clock, audit, person_view, utc_now
from core.services.notifications import QUEUED, SKIPPED
from core.texts import text
from core.services.views import PersonView

__all__ = ["UpdateLog", "Arrival", "REDELIVERY_WINDOW"]

# Telegram keeps an unconfirmed update for 24 hours; a redelivery comes within that and carries the same
# payload. An id seen outside the window, or with another payload, is a new update that reuses the id.
REDELIVERY_WINDOW = timedelta(hours=24)
_PRUNE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Arrival:
    already_handled: bool
    person: PersonView | None


class UpdateLog:
    """One transaction per update to learn both facts, one to record it handled.

    An update is identified by (bot, update id, payload digest) within the redelivery window, so the table
    stays bounded: rows past the window are pruned while recording."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock
        self._pruned_at: datetime | None = None

    def _seen(self, row: ProcessedUpdate | None, digest: str, now: datetime) -> bool:
        return row is not None and row.digest == digest and row.received_at >= now - REDELIVERY_WINDOW

    async def arrive(self, *, bot_id: int, update_id: int, digest: str, telegram_id: int | None) -> Arrival:
        """Nothing personal is stored here: until a person consents, the Telegram id is all we keep."""
        now = self._clock()
        async with self._uow() as uow:
            if self._seen(await uow.session.get(ProcessedUpdate, (bot_id, update_id)), digest, now):
                return Arrival(True, None)
            if telegram_id is None:
                return Arrival(False, None)
            person = await uow.people.get_by_telegram_id(telegram_id)
            if person is not None:
                return Arrival(False, person_view(person))
            person = Person(telegram_id=telegram_id, preferred_channel="both", locale="zh-CN", created_at=now)
            uow.people.add(person)
            await uow.flush()
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
                .values(status=SKIPPED, last_error=text("bot.receipt_in_chat"))
            )
            await uow.commit()
            return result.rowcount == 1

    async def handled(self, *, bot_id: int, update_id: int, digest: str) -> bool:
        """Records the update as handled; False when another worker recorded it first."""
        now = self._clock()
        async with self._uow() as uow:
            if self._pruned_at is None or now - self._pruned_at >= _PRUNE_EVERY:
                await uow.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < now - REDELIVERY_WINDOW))
                self._pruned_at = now
            row = await uow.session.get(ProcessedUpdate, (bot_id, update_id))
            if self._seen(row, digest, now):
                return False
            if row is None:
                uow.session.add(ProcessedUpdate(bot_id=bot_id, update_id=update_id, received_at=now, digest=digest))
            else:  # an old id reused by a new update
                row.digest, row.received_at = digest, now
            try:
                await uow.commit()
            except IntegrityError:
                return False
            return True
