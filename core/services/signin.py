"""Participants' web sign-in: one-time codes to an e-mail or a mobile, and server-side sessions.

Everything lives in the database (codes, the counts the throttles read, sessions), so several web
processes share nothing else. Only a salted HMAC of a code is stored; a session is keyed by the sha256
of its random id. Asking for a code answers the same whether or not anybody has that address: a code is
always sent, and verifying it either finds the person with that identity or creates one (without consent:
the web asks for it next).
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, func, or_, select, union
from sqlalchemy.exc import IntegrityError

from core.db.models import Application, ParticipantSession, Person, PersonIdentity, SignInCode, SignInFailure
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import ApplicationStatus, DomainError, NotFound
from core.services.common import Clock, audit, person_view, queue_to_address, utc_now
from core.services.intake import reference_number
from core.services.people import (
    ADDRESS_CHANNELS,
    address_label,
    identity_of,
    mask_identifier,
    normalise_address,
)
from core.services.views import PersonView
from core.texts import text

__all__ = [
    "SignInService",
    "SignInPolicy",
    "SignInRefused",
    "CodeRequest",
    "WebSession",
    "Claimable",
    "hash_session_id",
]


class SignInRefused(DomainError):
    """A code request or a code refused: throttled, wrong, expired, used or worn out. The message says
    what to do (zh-CN); `retry_after` is the wait in seconds when waiting is the answer."""

    def __init__(self, message: str, *, code: str, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignInPolicy:
    code_valid: timedelta = timedelta(minutes=10)
    max_tries: int = 5
    resend_after: timedelta = timedelta(minutes=1)
    per_address_per_hour: int = 5
    per_ip_per_hour: int = 20
    # Wrong codes from one IP across all addresses: someone guessing at many codes at once.
    failures_per_ip_per_hour: int = 30
    session_idle: timedelta = timedelta(days=30)
    # A session is written back at most this often (a page of many requests should not write on each).
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class CodeRequest:
    """What the page says after 发送验证码; the same whether or not the address is known."""

    channel: str
    address: str  # normalised
    masked_address: str
    expires_at: datetime
    resend_at: datetime  # the earliest moment the next code may be asked for


@dataclass(frozen=True)
class WebSession:
    person_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # if not used again before then (for the cookie's Max-Age)
    person: PersonView | None = None  # read with the session: a page needs no second read of the person


class Claimable(NamedTuple):
    """Another person (a Telegram applicant) whose application carries the signed-in person's verified address."""

    person_id: int
    reference: str


_HOUR = timedelta(hours=1)
# The answers that carry an applicant's own contact: expert form, university form.
_ANSWER_KEYS = {"email": ("email", "contact_email"), "mobile": ("mobile", "contact_mobile")}


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _code_hash(salt: str, channel: str, address: str, code: str) -> str:
    return hmac.new(bytes.fromhex(salt), f"{channel}:{address}:{code}".encode(), hashlib.sha256).hexdigest()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds() / 60))


def _clean_code(code: str) -> str | None:
    value = "".join((code or "").split())
    # Full-width digits typed on a Chinese keyboard count as digits.
    value = value.translate({ord("０") + d: str(d) for d in range(10)})
    return value if len(value) == 6 and value.isascii() and value.isdigit() else None


# Every page asks this first: built once (building the statement cost as much as running it).
_SESSION_WITH_PERSON = (select(ParticipantSession, Person).join(Person, Person.id == ParticipantSession.person_id)
                        .where(ParticipantSession.id == bindparam("session_hash")))


class SignInService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now, policy: SignInPolicy | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy or SignInPolicy()

    @property
    def policy(self) -> SignInPolicy:
        return self._policy

    # ------------------------------------------------------------------ codes
    async def request_code(self, *, channel: str, address: str, ip: str) -> CodeRequest:
        """Creates a code and queues it to the address (e-mail, or an 'sms' outbox row) in one transaction.

        Throttled per address (one a minute, a few an hour) and per IP; a refusal raises SignInRefused."""
        address = normalise_address(channel, address)
        ip = (ip or "")[:64] or None
        policy = self._policy
        now = self._clock()
        async with self._uow() as uow:
            if ip is not None:
                from_ip = (await uow.session.execute(
                    select(func.count(), func.min(SignInCode.created_at))
                    .where(SignInCode.ip == ip, SignInCode.created_at > now - _HOUR))).one()
                if from_ip[0] >= policy.per_ip_per_hour:
                    again = from_ip[1] + _HOUR
                    raise SignInRefused(text("signin.too_many_from_ip", minutes=_minutes_until(again, now)),
                                        code="ip_throttled", retry_after=_seconds_until(again, now))
            recent = (await uow.session.scalars(
                select(SignInCode.created_at)
                .where(SignInCode.channel == channel, SignInCode.address == address,
                       SignInCode.created_at > now - _HOUR)
                .order_by(SignInCode.created_at.desc()))).all()
            if recent and recent[0] + policy.resend_after > now:
                again = recent[0] + policy.resend_after
                raise SignInRefused(text("signin.wait_seconds", seconds=_seconds_until(again, now)),
                                    code="too_soon", retry_after=_seconds_until(again, now))
            if len(recent) >= policy.per_address_per_hour:
                again = recent[policy.per_address_per_hour - 1] + _HOUR
                raise SignInRefused(
                    text("signin.too_many_for_address", what=address_label(channel), limit=policy.per_address_per_hour,
                         minutes=_minutes_until(again, now)),
                    code="address_throttled", retry_after=_seconds_until(again, now))

            code = f"{secrets.randbelow(10 ** 6):06d}"
            salt = secrets.token_hex(16)
            row = SignInCode(channel=channel, address=address, code_hash=_code_hash(salt, channel, address, code),
                             salt=salt, ip=ip, created_at=now, expires_at=now + policy.code_valid, attempts=0)
            uow.session.add(row)
            await uow.flush()
            # Looked up either way (the same work whether or not the address is known): the outbox row of a
            # known person is theirs (erased with them, in their export).
            identity = await identity_of(uow, channel, address)
            minutes = int(policy.code_valid.total_seconds() // 60)
            await queue_to_address(
                uow, kind="signin_code", channel="email" if channel == "email" else "sms", address=address,
                occasion=f"code-{row.id}-{row.salt}", now=now, person_id=identity.person_id if identity else None,
                payload={"code": code, "minutes": minutes, "expires_at": row.expires_at.isoformat(), "channels": []},
            )
            await uow.commit()
            resend_at = now + policy.resend_after
            issued = [now, *recent]  # newest first
            if len(issued) >= policy.per_address_per_hour:
                # The hour's allowance is used up until its oldest code leaves the window.
                resend_at = max(resend_at, issued[policy.per_address_per_hour - 1] + _HOUR)
            return CodeRequest(channel=channel, address=address, masked_address=mask_identifier(channel, address),
                               expires_at=row.expires_at, resend_at=resend_at)

    async def confirm(self, *, person_id: int, channel: str, address: str, code: str, ip: str) -> str:
        """Checks and spends a code for the signed-in person without signing anybody in: the proof that
        PeopleService.link_identity(person_id, …) then accepts (theirs only, for a few minutes).
        Returns the normalised address."""
        address = normalise_address(channel, address)
        async with self._uow() as uow:
            row = await self._spend(uow, channel, address, code, (ip or "")[:64] or None)
            row.confirmed_for = person_id
            await uow.commit()
        return address

    async def verify(self, *, channel: str, address: str, code: str, ip: str) -> PersonView:
        """The person the verified address belongs to, created (without consent) on their first sign-in."""
        address = normalise_address(channel, address)
        ip = (ip or "")[:64] or None
        now = self._clock()
        async with self._uow() as uow:
            spent = await self._spend(uow, channel, address, code, ip)
            identity = await identity_of(uow, channel, address)
            person = await uow.people.get(identity.person_id) if identity is not None else None
            if person is not None and person.erased_at is not None:
                # An erased person's stub is reached by nobody: the address starts afresh.
                await uow.session.delete(identity)
                await uow.flush()
                identity = person = None
            created = person is None
            if created:
                person = Person(preferred_channel="email", locale="zh-CN", created_at=now,
                                email=address if channel == "email" else None,
                                mobile=address if channel == "mobile" else None)
                uow.people.add(person)
                await uow.flush()
                uow.session.add(PersonIdentity(person_id=person.id, channel=channel, identifier=address,
                                               verified_at=now, created_at=now))
                audit(uow, at=now, actor=f"person:{person.id}", action="person.register", subject=f"person:{person.id}",
                      channel=channel)
            elif identity.verified_at is None:
                identity.verified_at = now
            audit(uow, at=now, actor=f"person:{person.id}", action="person.signin", subject=f"person:{person.id}",
                  channel=channel, ip=ip)
            try:
                await uow.commit()
            except IntegrityError:
                if not created:
                    raise
                # The same address verified at the same moment elsewhere (two tabs): that sign-in made the person.
                # The code stays spent: it cannot be used twice.
                async with self._uow() as again:
                    row = await again.session.get(SignInCode, spent.id)
                    row.used_at = row.used_at or now
                    await again.commit()
                return await self._person_of(channel, address)
            return person_view(person)

    async def _person_of(self, channel: str, address: str) -> PersonView:
        async with self._uow() as uow:
            identity = await identity_of(uow, channel, address)
            if identity is None:
                raise NotFound(text("person.not_found"))
            return person_view(await uow.people.get(identity.person_id))

    async def _spend(self, uow: UnitOfWork, channel: str, address: str, code: str, ip: str | None) -> SignInCode:
        """Marks the newest code for the address used if `code` is it; otherwise counts a try (committed) and raises."""
        policy = self._policy
        now = self._clock()
        what = address_label(channel)
        if ip is not None:
            failures = (await uow.session.execute(
                select(func.count(), func.min(SignInFailure.at))
                .where(SignInFailure.ip == ip, SignInFailure.at > now - _HOUR))).one()
            if failures[0] >= policy.failures_per_ip_per_hour:
                again = failures[1] + _HOUR
                raise SignInRefused(text("signin.verify_throttled", minutes=_minutes_until(again, now)),
                                    code="verify_throttled", retry_after=_seconds_until(again, now))
        typed = _clean_code(code)
        if typed is None:
            raise SignInRefused(text("signin.code_format"), code="code_format")
        row = await uow.session.scalar(
            select(SignInCode).where(SignInCode.channel == channel, SignInCode.address == address)
            .order_by(SignInCode.created_at.desc(), SignInCode.id.desc()).limit(1).with_for_update())
        refusal: SignInRefused | None = None
        if row is None:
            refusal = SignInRefused(text("signin.no_code", what=what), code="no_code")
        elif row.used_at is not None:
            refusal = SignInRefused(text("signin.code_used"), code="code_used")
        elif row.attempts >= policy.max_tries:
            refusal = SignInRefused(text("signin.code_dead", tries=policy.max_tries), code="code_dead")
        elif row.expires_at <= now:
            refusal = SignInRefused(
                text("signin.code_expired", minutes=int(policy.code_valid.total_seconds() // 60)), code="code_expired")
        elif not hmac.compare_digest(row.code_hash, _code_hash(row.salt, channel, address, typed)):
            row.attempts += 1
            left = policy.max_tries - row.attempts
            refusal = (SignInRefused(text("signin.code_wrong", left=left), code="code_wrong") if left > 0
                       else SignInRefused(text("signin.code_dead", tries=policy.max_tries), code="code_dead"))
        if refusal is not None:
            uow.session.add(SignInFailure(at=now, channel=channel, address=address, ip=ip, reason=refusal.code))
            await uow.commit()
            raise refusal
        row.used_at = now
        return row

    # ------------------------------------------------------------------ sessions
    async def open_session(self, *, person_id: int, user_agent: str | None, ip: str | None) -> str:
        """A new session for the person: the id to put in the cookie (only its hash is stored)."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None or person.erased_at is not None:
                raise NotFound(text("person.not_found"))
            uow.session.add(ParticipantSession(
                id=hash_session_id(session_id), person_id=person_id, created_at=now, last_seen_at=now,
                ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:255] or None))
            await uow.commit()
        return session_id

    async def session(self, *, session_id: str) -> WebSession | None:
        """The session behind a cookie, renewed; None when unknown, closed or unused for `session_idle`."""
        if not session_id:
            return None
        now = self._clock()
        idle = self._policy.session_idle
        # Every page asks this first: a statement that commits as it runs (no BEGIN/ROLLBACK around a read),
        # with the person read in the same statement.
        async with self._uow.autocommit() as uow:
            row = (await uow.session.execute(_SESSION_WITH_PERSON, {"session_hash": hash_session_id(session_id)})).first()
            if row is None:
                return None
            session, person = row
            if session.ended_at is not None or person.erased_at is not None or session.last_seen_at + idle <= now:
                await uow.session.delete(session)
                await uow.commit()
                return None
            if now - session.last_seen_at >= self._policy.touch_every:
                session.last_seen_at = now
                await uow.commit()
            return WebSession(person_id=session.person_id, created_at=session.created_at,
                              last_seen_at=session.last_seen_at, expires_at=session.last_seen_at + idle,
                              person=person_view(person))

    async def close(self, *, session_id: str) -> None:
        if not session_id:
            return
        async with self._uow() as uow:
            await uow.session.execute(delete(ParticipantSession).where(
                ParticipantSession.id == hash_session_id(session_id)))
            await uow.commit()

    async def close_all(self, *, person_id: int) -> int:
        """Signs the person out everywhere; the number of sessions closed."""
        now = self._clock()
        async with self._uow() as uow:
            result = await uow.session.execute(delete(ParticipantSession).where(
                ParticipantSession.person_id == person_id))
            audit(uow, at=now, actor=f"person:{person_id}", action="person.signout_all", subject=f"person:{person_id}",
                  sessions=result.rowcount)
            await uow.commit()
            return result.rowcount

    # ------------------------------------------------------------------ a Telegram applicant on the web
    async def claimable(self, *, person_id: int) -> list[Claimable]:
        """Other people, with a Telegram account, whose application (in draft or sent in, not withdrawn)
        carries one of this person's verified e-mails or mobiles, in its answers or as their contact."""
        async with self._uow() as uow:
            return await self._claimable(uow, person_id)

    async def _claimable(self, uow: UnitOfWork, person_id: int) -> list[Claimable]:
        mine = (await uow.session.execute(select(PersonIdentity.channel, PersonIdentity.identifier).where(
            PersonIdentity.person_id == person_id, PersonIdentity.channel.in_(ADDRESS_CHANNELS),
            PersonIdentity.verified_at.is_not(None)))).all()
        if not mine:
            return []
        matches = []
        for channel, identifier in mine:
            contact = Person.email if channel == "email" else Person.mobile
            matches.append(func.lower(contact) == identifier)
            for key in _ANSWER_KEYS[channel]:
                matches.append(func.lower(Application.answers[key].as_string()) == identifier)
        # Only people with Telegram can be continued here: the query starts from them (few, in mainland China
        # none) and reads only their applications. Filtering every application by its answers instead was a
        # scan of the table on each sign-in: 0.5 s at 100,000 applications on PostgreSQL.
        with_telegram = union(
            select(PersonIdentity.person_id).where(PersonIdentity.channel == "telegram"),
            select(Person.id).where(Person.telegram_id.is_not(None)),
        )
        rows = (await uow.session.scalars(
            select(Application).join(Person, Person.id == Application.person_id)
            .where(Application.person_id.in_(with_telegram), Application.person_id != person_id,
                   Person.erased_at.is_(None), Application.status != ApplicationStatus.WITHDRAWN, or_(*matches))
            .order_by(Application.person_id, Application.id))).all()
        return [Claimable(app.person_id, reference_number(app)) for app in rows]

    async def link(self, *, person_id: int, other_person_id: int) -> PersonView:
        """Merges the signed-in web person into the Telegram applicant `other_person_id` (from `claimable`):
        the web person's verified e-mails and mobiles move to the applicant, and the web person, empty, goes
        (with its sessions: the web opens a new session for the applicant). Explicit, only when called;
        recorded in the audit log. Returns the applicant."""
        now = self._clock()
        async with self._uow() as uow:
            claim = [c for c in await self._claimable(uow, person_id) if c.person_id == other_person_id]
            if not claim:
                raise NotFound(text("signin.nothing_to_link"))
            if await uow.applications.list_for_person(person_id):
                raise DomainError(text("signin.link_has_applications"), code="has_applications")
            web_person = await uow.people.get(person_id)
            other = await uow.people.get(other_person_id)
            moved = (await uow.session.scalars(select(PersonIdentity).where(
                PersonIdentity.person_id == person_id, PersonIdentity.channel.in_(ADDRESS_CHANNELS)))).all()
            for identity in moved:
                identity.person_id = other_person_id
            await uow.flush()
            await uow.session.delete(web_person)
            detail = [f"{i.channel}:{mask_identifier(i.channel, i.identifier)}" for i in moved]
            audit(uow, at=now, actor=f"person:{person_id}", action="person.link", subject=f"person:{other_person_id}",
                  from_person=person_id, identities=detail, applications=[c.reference for c in claim])
            audit(uow, at=now, actor=f"person:{person_id}", action="person.merged_into", subject=f"person:{person_id}",
                  into_person=other_person_id)
            await uow.commit()
            return person_view(other)
