"""People: contact records and their consents (PIPL)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.db.models import Person, PersonIdentity, SignInCode
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.domain.vocabulary import PREFERRED_CHANNELS
from core.forms.normalize import parse_cn_mobile, parse_email
from core.services.common import Clock, audit, person_view, utc_now
from core.services.views import PersonView
from core.texts import text

__all__ = [
    "PeopleService", "CONSENT_VERSION", "IdentityView", "IDENTITY_CHANNELS", "ADDRESS_CHANNELS", "LINK_WINDOW",
    "normalise_address", "mask_identifier", "address_label", "identity_of", "add_telegram_identity",
]

# Bumped whenever the privacy notice changes, so that we know which text someone agreed to.
CONSENT_VERSION = "2025-07"

ROLES = ("expert", "university")

# The ways a person can prove who they are; the web signs in with the last two (one-time codes).
IDENTITY_CHANNELS = ("telegram", "email", "mobile")
ADDRESS_CHANNELS = ("email", "mobile")
# How long a verified code vouches for adding its address to a signed-in person (link_identity).
LINK_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class IdentityView:
    channel: str
    identifier: str
    verified_at: datetime | None
    created_at: datetime


def normalise_address(channel: str, raw: str) -> str:
    """An e-mail lower-cased, a mainland mobile as 11 digits; the forms' own rules and messages."""
    if channel not in ADDRESS_CHANNELS:
        raise DomainError(text("signin.channel_unknown"), code="channel_unknown")
    raw = raw if isinstance(raw, str) else ""
    shown = raw.strip()[:60]
    if channel == "email":
        value = parse_email(raw)
        if value is None or len(value) > 254:
            raise DomainError(text("email.invalid", raw=shown), code="address_invalid")
        return value.lower()
    value = parse_cn_mobile(raw)
    if value is None:
        raise DomainError(text("phone.invalid", raw=shown), code="address_invalid")
    return value


def mask_identifier(channel: str, identifier: str) -> str:
    """For audit details and pages: an address shown without giving it away."""
    from core.services.privacy import mask_email, mask_phone  # privacy imports the services package

    if channel == "email":
        return mask_email(identifier)
    if channel == "mobile":
        return mask_phone(identifier)
    return f"…{identifier[-4:]}"


def address_label(channel: str) -> str:
    return text("signin.address_email" if channel == "email" else "signin.address_mobile")


async def identity_of(uow: UnitOfWork, channel: str, identifier: str) -> PersonIdentity | None:
    return await uow.session.scalar(select(PersonIdentity).where(
        PersonIdentity.channel == channel, PersonIdentity.identifier == identifier))


def add_telegram_identity(uow: UnitOfWork, person: Person, now: datetime) -> None:
    """The Telegram account a person reached the bot with: verified by Telegram itself."""
    uow.session.add(PersonIdentity(person_id=person.id, channel="telegram", identifier=str(person.telegram_id),
                                   verified_at=now, created_at=now))


class PeopleService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def get(self, *, person_id: int) -> PersonView:
        async with self._uow.autocommit() as uow:
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
                add_telegram_identity(uow, person, now)
                audit(uow, at=now, actor=f"person:{person.id}", action="person.register", subject=f"person:{person.id}")
                await uow.commit()
            elif await identity_of(uow, "telegram", str(telegram_id)) is None:
                # Registered by a path that wrote only people.telegram_id: the identity follows.
                add_telegram_identity(uow, person, now)
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

    async def identities(self, *, person_id: int) -> list[IdentityView]:
        """The person's channel identities (what they sign in with), oldest first."""
        async with self._uow() as uow:
            rows = (await uow.session.scalars(select(PersonIdentity).where(PersonIdentity.person_id == person_id)
                                              .order_by(PersonIdentity.id))).all()
            return [IdentityView(r.channel, r.identifier, r.verified_at, r.created_at) for r in rows]

    async def link_identity(self, *, person_id: int, channel: str, identifier: str) -> PersonView:
        """Adds a verified e-mail or mobile to a signed-in person: an explicit act, never automatic.

        Only an address whose one-time code this person verified within LINK_WINDOW (SignInService.confirm)
        is added; one already belonging to somebody else is refused (two people become one only through
        SignInService.link). Recorded in the audit log. The address also becomes the person's contact
        detail of that kind when they have none yet."""
        if channel not in ADDRESS_CHANNELS:
            raise DomainError(text("identity.channel_unknown"), code="channel_unknown")
        identifier = normalise_address(channel, identifier)
        what = address_label(channel)
        now = self._clock()
        async with self._uow() as uow:
            person = await self._load(uow, person_id)
            existing = await identity_of(uow, channel, identifier)
            if existing is not None:
                if existing.person_id == person_id:
                    return person_view(person)
                raise DomainError(text("identity.taken", what=what), code="identity_taken")
            verified = await uow.session.scalar(select(SignInCode.used_at).where(
                SignInCode.channel == channel, SignInCode.address == identifier, SignInCode.confirmed_for == person_id,
                SignInCode.used_at > now - LINK_WINDOW).order_by(SignInCode.used_at.desc()).limit(1))
            if verified is None:
                raise DomainError(text("identity.not_verified", what=what, minutes=int(LINK_WINDOW.total_seconds() // 60)),
                                  code="not_verified")
            uow.session.add(PersonIdentity(person_id=person_id, channel=channel, identifier=identifier,
                                           verified_at=verified, created_at=now))
            if channel == "email" and not person.email:
                person.email = identifier
            if channel == "mobile" and not person.mobile:
                person.mobile = identifier
            audit(uow, at=now, actor=f"person:{person_id}", action="person.link_identity", subject=f"person:{person_id}",
                  channel=channel, identifier=mask_identifier(channel, identifier))
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
