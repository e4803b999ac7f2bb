"""People: contact records and their consents (PIPL)."""
from __future__ import annotations

from core.db.models import Person
from core.db.uow import UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.domain.vocabulary import PREFERRED_CHANNELS
from core.services.common import Clock, audit, person_view, utc_now
from core.services.views import PersonView
from core.texts import text

__all__ = ["PeopleService", "CONSENT_VERSION"]

# Bumped whenever the privacy notice changes, so that we know which text someone agreed to.
CONSENT_VERSION = "2025-07"

ROLES = ("expert", "university")


class PeopleService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def get(self, *, person_id: int) -> PersonView:
        async with self._uow() as uow:
            return person_view(await self._load(uow, person_id))

    async def get_by_telegram_id(self, *, telegram_id: int) -> PersonView | None:
        async with self._uow() as uow:
            person = await uow.people.get_by_telegram_id(telegram_id)
            return person_view(person) if person else None

    async def register_telegram_user(self, *, telegram_id: int, display_name: str | None) -> PersonView:
        now = self._clock()
        async with self._uow() as uow:
            person = await uow.people.get_by_telegram_id(telegram_id)
            if person is None:
                person = Person(
                    telegram_id=telegram_id, display_name=display_name, preferred_channel="both", locale="zh-CN",
                    created_at=now,
                )
                uow.people.add(person)
                await uow.flush()
                audit(uow, at=now, actor=f"person:{person.id}", action="person.register", subject=f"person:{person.id}")
                await uow.commit()
            return person_view(person)

    async def create(self, *, display_name: str | None = None, email: str | None = None) -> PersonView:
        """A person who reaches us without Telegram (sample data, imports, tests)."""
        now = self._clock()
        async with self._uow() as uow:
            person = Person(display_name=display_name, email=email, preferred_channel="email", locale="zh-CN", created_at=now)
            uow.people.add(person)
            await uow.flush()
            audit(uow, at=now, actor="system", action="person.create", subject=f"person:{person.id}")
            await uow.commit()
            return person_view(person)

    async def give_consent(self, *, person_id: int, sensitive: bool = False) -> PersonView:
        now = self._clock()
        async with self._uow() as uow:
            person = await self._load(uow, person_id)
            if sensitive:
                person.sensitive_consented_at = now
            else:
                person.consented_at = now
                person.consent_version = CONSENT_VERSION
            action = "person.consent_sensitive" if sensitive else "person.consent"
            audit(uow, at=now, actor=f"person:{person_id}", action=action, subject=f"person:{person_id}", version=CONSENT_VERSION)
            await uow.commit()
            return person_view(person)

    async def set_role(self, *, person_id: int, role: str) -> PersonView:
        if role not in ROLES:
            raise DomainError(f"未知角色：{role}")
        async with self._uow() as uow:
            person = await self._load(uow, person_id)
            person.role = role
            await uow.commit()
            return person_view(person)

    async def set_preferred_channel(self, *, person_id: int, channel: str) -> PersonView:
        if channel not in PREFERRED_CHANNELS:
            raise DomainError(f"通知方式只能是：{'、'.join(PREFERRED_CHANNELS.values())}")
        async with self._uow() as uow:
            person = await self._load(uow, person_id)
            person.preferred_channel = channel
            await uow.commit()
            return person_view(person)

    async def record_forbidden(self, *, person_id: int, attempted: str) -> None:
        """Someone tried a staff-only action: kept in the audit log for staff to see."""
        now = self._clock()
        async with self._uow() as uow:
            audit(uow, at=now, actor=f"person:{person_id}", action="access.denied", subject=f"person:{person_id}", attempted=attempted)
            await uow.commit()

    @staticmethod
    async def _load(uow, person_id: int) -> Person:
        person = await uow.people.get(person_id)
        if person is None:
            raise NotFound(text("person.not_found"))
        return person
