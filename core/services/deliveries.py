"""Telegram updates as they arrive: who sent each one, and whether it was handled before."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from core.db.models import Person, ProcessedUpdate
from core.db.uow import UnitOfWorkFactory
from core.services.common import Clock, audit, person_view, utc_now
from core.services.views import PersonView

__all__ = ["UpdateLog", "Arrival"]


@dataclass(frozen=True)
class Arrival:
    already_handled: bool
    person: PersonView | None


class UpdateLog:
    """One transaction per update to learn both facts, one to record it handled."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def arrive(self, *, bot_id: int, update_id: int, telegram_id: int | None, display_name: str | None) -> Arrival:
        now = self._clock()
        async with self._uow() as uow:
            if await uow.session.get(ProcessedUpdate, (bot_id, update_id)) is not None:
                return Arrival(True, None)
            if telegram_id is None:
                return Arrival(False, None)
            person = await uow.people.get_by_telegram_id(telegram_id)
            if person is not None:
                return Arrival(False, person_view(person))
            person = Person(telegram_id=telegram_id, display_name=display_name, preferred_channel="both",
                            locale="zh-CN", created_at=now)
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

    async def handled(self, *, bot_id: int, update_id: int) -> bool:
        """Records the update as handled; False when another worker recorded it first."""
        async with self._uow() as uow:
            uow.session.add(ProcessedUpdate(bot_id=bot_id, update_id=update_id, received_at=self._clock()))
            try:
                await uow.commit()
            except IntegrityError:
                return False
            return True
