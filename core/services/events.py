"""Workshops and other events (岗前示范交流活动, 校企对接活动, 教学研讨会): invitations, RSVP, tally.

Every change that invitees must hear about writes its outbox rows in the same transaction.
Reminders (T-1 day, T-1 hour) are not written here: the notifier's scheduler derives them from
the current start time on each tick (see core.services.notifications), so a moved event gets
new reminders and the old ones lapse.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import re
import unicodedata
from datetime import date, time

from sqlalchemy import func, select

from core.db.models import Appointment, Application, Event, EventInvitation, Person
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain.appointments import AppointmentStatus
from core.domain import ApplicationStatus, DomainError, FormKind, NotFound
from core.domain.limits import WORKSHOP_CANCEL_REASON, WORKSHOP_DESCRIPTION, WORKSHOP_TITLE, WORKSHOP_VENUE, check_link
from core.forms.normalize import parse_date
from core.services.common import Clock, audit, queue_notification, utc_now
from core.texts import text
from core.domain.permissions import Action, AnyActor
from core.services.permissions import authorize

__all__ = [
    "AUDIENCES",
    "EVENT_KINDS",
    "RSVP_LABELS",
    "EventService",
    "EventTally",
    "EventView",
    "InvitationView",
    "InviteResult",
    "event_kind",
    "event_payload",
    "parse_event_time",
]

EVENT_KINDS: dict[str, str] = {
    "demo_workshop": "岗前示范交流活动",
    "matchmaking": "校企对接活动",
    "seminar": "教学研讨会",
}

# Who an invitation goes to: the pool (approved experts), universities with an accepted intent,
# both sides of every pair both accepted (waiting for publicity, or publicised and on), or people named one by one.
AUDIENCES: dict[str, str] = {
    "experts": "资源库专家",
    "universities": "意向已通过的高校",
    "matched": "已匹配的专家和高校",
    "people": "指定人员",
}
MATCHED_STATUSES = (AppointmentStatus.ACCEPTED, AppointmentStatus.PUBLICITY, AppointmentStatus.AGREED,
                    AppointmentStatus.FILED)

RSVP_LABELS: dict[str, str] = {"pending": "未回复", "yes": "参加", "no": "不参加"}

SCHEDULED = "scheduled"
CANCELLED = "cancelled"


def event_kind(value: str) -> str:
    """The kind key for a key or its Chinese name (staff type either)."""
    value = (value or "").strip()
    if value in EVENT_KINDS:
        return value
    for key, label in EVENT_KINDS.items():
        if value == label:
            return key
    raise DomainError(text("events.unknown_kind", kind=value, kinds="、".join(EVENT_KINDS.values())))


_CLOCK_TIME = re.compile(r"^(\d{1,2})[:：点时](\d{2})?分?$")


def parse_event_time(raw: str, zone: ZoneInfo, *, on: date | None = None) -> datetime | None:
    """"2025-09-01 14:00" (any date form the forms accept, then a time) in the plan's zone;
    a bare "16:00" is taken on the day `on`. None if it cannot be read."""
    value = unicodedata.normalize("NFKC", raw or "").strip().replace("T", " ")
    day_part, _, time_part = value.rpartition(" ")
    if not day_part:
        day_part, time_part = "", value
    day = parse_date(day_part) if day_part else on
    match = _CLOCK_TIME.match(time_part.strip())
    if day is None or match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


@dataclass(frozen=True)
class EventTally:
    invited: int
    attending: int
    declined: int
    pending: int


@dataclass(frozen=True)
class EventView:
    id: int
    kind: str
    kind_label: str
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online_url: str | None
    description: str | None
    status: str
    sequence: int
    cancel_reason: str | None
    tally: EventTally

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


@dataclass(frozen=True)
class InvitationView:
    id: int
    event: EventView
    person_id: int
    display_name: str | None
    rsvp: str
    responded_at: datetime | None

    @property
    def rsvp_label(self) -> str:
        return RSVP_LABELS[self.rsvp]


@dataclass(frozen=True)
class InviteResult:
    event_id: int
    invited: int  # newly invited by this call
    already_invited: int


def event_payload(event: Event, *, invitation: EventInvitation | None, person: Person | None) -> dict[str, Any]:
    """What every event notification carries: enough to render it and to judge at send time
    whether it still applies (the sequence and start time it was written for)."""
    return {
        "event_id": event.id,
        "invitation_id": invitation.id if invitation is not None else None,
        "kind": event.kind,
        "kind_label": EVENT_KINDS.get(event.kind, event.kind),
        "title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "venue": event.venue or "",
        "online_url": event.online_url or "",
        "description": event.description or "",
        "sequence": event.sequence,
        "cancel_reason": event.cancel_reason or "",
        "name": (person.display_name if person is not None else None) or "",
    }


_UNSET: Any = object()


class EventService:
    def __init__(self, *, uow: UnitOfWorkFactory, zone: ZoneInfo, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock

    # ------------------------------------------------------------------ staff

    async def create(
        self,
        *,
        kind: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        venue: str | None = None,
        online_url: str | None = None,
        description: str | None = None,
        actor: AnyActor,
    ) -> EventView:
        actor = (await authorize(self._uow, self._clock, actor, Action.EVENTS_MANAGE)).actor
        now = self._clock()
        event = Event(
            kind=event_kind(kind),
            title=WORKSHOP_TITLE.check(title),
            starts_at=starts_at,
            ends_at=ends_at,
            venue=WORKSHOP_VENUE.optional(venue),
            online_url=check_link(online_url),
            description=WORKSHOP_DESCRIPTION.optional(description),
            status=SCHEDULED,
            sequence=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        self._check(event, now)
        async with self._uow() as uow:
            uow.session.add(event)
            await uow.flush()
            audit(uow, at=now, actor=actor, action="event.create", subject=f"event:{event.id}", title=event.title,
                  starts_at=event.starts_at.isoformat())
            await uow.commit()
            return _view(event, EventTally(0, 0, 0, 0))

    async def update(
        self,
        *,
        event_id: int,
        actor: AnyActor,
        title: str | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        venue: str | None = _UNSET,
        online_url: str | None = _UNSET,
        description: str | None = _UNSET,
    ) -> EventView:
        """Changes what invitees were told; they get an update (with a newer calendar SEQUENCE)."""
        actor = (await authorize(self._uow, self._clock, actor, Action.EVENTS_MANAGE)).actor
        # Every text within its limit and the link a web address, before anything is loaded.
        title = WORKSHOP_TITLE.check(title) if title is not None else None
        venue = WORKSHOP_VENUE.optional(venue) if venue is not _UNSET else venue
        online_url = check_link(online_url) if online_url is not _UNSET else online_url
        description = WORKSHOP_DESCRIPTION.optional(description) if description is not _UNSET else description
        now = self._clock()
        async with self._uow() as uow:
            event = await self._load(uow, event_id, for_update=True)
            if event.status == CANCELLED:
                raise DomainError(text("events.cancelled", title=event.title))
            changes: dict[str, str] = {}
            duration = event.ends_at - event.starts_at
            if title is not None and title.strip() != event.title:
                event.title = title.strip()
                changes["title"] = event.title
            if starts_at is not None and starts_at != event.starts_at:
                event.starts_at = starts_at
                changes["starts_at"] = starts_at.isoformat()
            # Moving an event keeps its length unless a new end is given.
            new_end = ends_at if ends_at is not None else (
                event.starts_at + duration if "starts_at" in changes else event.ends_at
            )
            if new_end != event.ends_at:
                event.ends_at = new_end
                changes["ends_at"] = new_end.isoformat()
            for name, value in (("venue", venue), ("online_url", online_url), ("description", description)):
                if value is not _UNSET and _blank_to_none(value) != getattr(event, name):
                    setattr(event, name, _blank_to_none(value))
                    changes[name] = value or ""
            if not changes:
                return _view(event, await self._tally(uow, event.id))
            self._check(event, now)
            event.sequence += 1
            event.updated_at = now
            audit(uow, at=now, actor=actor, action="event.update", subject=f"event:{event.id}", **changes)
            for invitation, person in await self._invitees(uow, event.id, exclude_declined=True):
                await queue_notification(
                    uow, kind="workshop_updated", person=person, occasion=f"event-{event.id}-seq{event.sequence}",
                    now=now, payload=event_payload(event, invitation=invitation, person=person),
                )
            await uow.commit()
            return _view(event, await self._tally(uow, event.id))

    async def cancel(self, *, event_id: int, actor: AnyActor, reason: str | None = None) -> EventView:
        actor = (await authorize(self._uow, self._clock, actor, Action.EVENTS_MANAGE)).actor
        reason = WORKSHOP_CANCEL_REASON.optional(reason)
        now = self._clock()
        async with self._uow() as uow:
            event = await self._load(uow, event_id, for_update=True)
            if event.status == CANCELLED:
                return _view(event, await self._tally(uow, event.id))
            event.status = CANCELLED
            event.cancel_reason = _blank_to_none(reason)
            event.sequence += 1
            event.updated_at = now
            audit(uow, at=now, actor=actor, action="event.cancel", subject=f"event:{event.id}", reason=reason or "")
            for invitation, person in await self._invitees(uow, event.id, exclude_declined=True):
                await queue_notification(
                    uow, kind="workshop_cancelled", person=person, occasion=f"event-{event.id}", now=now,
                    payload=event_payload(event, invitation=invitation, person=person),
                )
            await uow.commit()
            return _view(event, await self._tally(uow, event.id))

    async def invite(
        self,
        *,
        event_id: int,
        actor: AnyActor,
        audience: str,
        person_ids: Iterable[int] = (),
        batch_id: int | None = None,
    ) -> InviteResult:
        """Invites an audience; inviting someone twice is a no-op, so staff can re-run it as the pool grows."""
        actor = (await authorize(self._uow, self._clock, actor, Action.EVENTS_MANAGE)).actor
        if audience not in AUDIENCES:
            raise DomainError(text("events.unknown_audience", audience=audience, audiences="、".join(AUDIENCES)))
        now = self._clock()
        async with self._uow() as uow:
            event = await self._load(uow, event_id, for_update=True)
            if event.status == CANCELLED:
                raise DomainError(text("events.cancelled", title=event.title))
            if event.starts_at <= now:
                raise DomainError(text("events.started", title=event.title))
            people = await self._audience(uow, audience, list(person_ids), batch_id)
            existing = set(
                (await uow.session.scalars(
                    select(EventInvitation.person_id).where(EventInvitation.event_id == event.id)
                )).all()
            )
            invited = 0
            for person in people:
                if person.id in existing:
                    continue
                invitation = EventInvitation(event_id=event.id, person_id=person.id, rsvp="pending", invited_at=now)
                uow.session.add(invitation)
                await uow.flush()
                existing.add(person.id)
                invited += 1
                await queue_notification(
                    uow, kind="workshop_invitation", person=person, occasion=f"event-{event.id}", now=now,
                    payload=event_payload(event, invitation=invitation, person=person),
                )
            audit(uow, at=now, actor=actor, action="event.invite", subject=f"event:{event.id}", audience=audience,
                  invited=invited)
            await uow.commit()
            return InviteResult(event.id, invited, len(people) - invited)

    # Staff reads (get, list, tally, invitations) take the acting `staff` and check Action.EVENTS_VIEW first;
    # a participant reads their own through invitations_for / invitation_for.

    async def get(self, *, event_id: int, staff: AnyActor) -> EventView:
        await authorize(self._uow, self._clock, staff, Action.EVENTS_VIEW, subject=f"event:{event_id}")
        async with self._uow() as uow:
            event = await self._load(uow, event_id)
            return _view(event, await self._tally(uow, event.id))

    async def list(self, *, staff: AnyActor, include_past: bool = False,
                   include_cancelled: bool = False) -> list[EventView]:
        await authorize(self._uow, self._clock, staff, Action.EVENTS_VIEW)
        now = self._clock()
        async with self._uow() as uow:
            stmt = select(Event).order_by(Event.starts_at, Event.id)
            if not include_past:
                stmt = stmt.where(Event.ends_at >= now)
            if not include_cancelled:
                stmt = stmt.where(Event.status != CANCELLED)
            events = (await uow.session.scalars(stmt)).all()
            return [_view(e, await self._tally(uow, e.id)) for e in events]

    async def tally(self, *, event_id: int, staff: AnyActor) -> EventTally:
        await authorize(self._uow, self._clock, staff, Action.EVENTS_VIEW, subject=f"event:{event_id}")
        async with self._uow() as uow:
            await self._load(uow, event_id)
            return await self._tally(uow, event_id)

    async def invitations(self, *, event_id: int, staff: AnyActor) -> list[InvitationView]:
        await authorize(self._uow, self._clock, staff, Action.EVENTS_VIEW, subject=f"event:{event_id}")
        async with self._uow() as uow:
            event = await self._load(uow, event_id)
            view = _view(event, await self._tally(uow, event.id))
            return [
                _invitation_view(invitation, view, person)
                for invitation, person in await self._invitees(uow, event.id, exclude_declined=False)
            ]

    # ------------------------------------------------------------------ invitees

    async def invitations_for(self, *, person_id: int) -> list[InvitationView]:
        """This person's invitations, the next event first; cancelled and past ones after, for the record."""
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                return []
            rows = (await uow.session.execute(
                select(EventInvitation, Event).join(Event, Event.id == EventInvitation.event_id)
                .where(EventInvitation.person_id == person_id).order_by(Event.starts_at, Event.id))).all()
            now = self._clock()
            views = [_invitation_view(i, _view(e, await self._tally(uow, e.id)), person) for i, e in rows]
        return sorted(views, key=lambda v: (v.event.cancelled or v.event.ends_at <= now, v.event.starts_at))

    async def invitation_for(self, *, person_id: int, event_id: int) -> InvitationView:
        """This person's invitation to one event (a signed link names the event); not invited reads as missing."""
        async with self._uow() as uow:
            row = (await uow.session.execute(
                select(EventInvitation, Event).join(Event, Event.id == EventInvitation.event_id)
                .where(EventInvitation.person_id == person_id, EventInvitation.event_id == event_id))).first()
            person = await uow.people.get(person_id) if row is not None else None
            if row is None or person is None:
                raise NotFound(text("events.invitation_not_found"))
            invitation, event = row
            return _invitation_view(invitation, _view(event, await self._tally(uow, event.id)), person)

    async def respond(self, *, invitation_id: int, attending: bool, person_id: int) -> InvitationView:
        """Records this person's RSVP to their own invitation. Someone else's invitation is NotFound with the
        same message as a missing one, and is checked before anything about its event is told."""
        now = self._clock()
        async with self._uow() as uow:
            invitation = await uow.session.get(EventInvitation, invitation_id, with_for_update=True)
            if invitation is None or invitation.person_id != person_id:
                raise NotFound(text("events.invitation_not_found"))
            person = await uow.people.get(person_id)
            if person is None:
                raise NotFound(text("events.invitation_not_found"))
            event = await self._load(uow, invitation.event_id)
            if event.status == CANCELLED:
                raise DomainError(text("events.cancelled", title=event.title), code="event_cancelled")
            if event.ends_at <= now:
                raise DomainError(text("events.over", title=event.title), code="event_over")
            answer = "yes" if attending else "no"
            if invitation.rsvp != answer:
                invitation.rsvp = answer
                invitation.responded_at = now
                audit(uow, at=now, actor=f"person:{person.id}", action="event.rsvp", subject=f"event:{event.id}",
                      rsvp=answer)
            await uow.commit()
            return _invitation_view(invitation, _view(event, await self._tally(uow, event.id)), person)

    # ------------------------------------------------------------------ helpers

    def _check(self, event: Event, now: datetime) -> None:
        if not event.title:
            raise DomainError(text("events.title_required"))
        if event.ends_at <= event.starts_at:
            raise DomainError(text("events.ends_before_start"))
        if event.starts_at <= now:
            raise DomainError(text("events.in_past"))

    @staticmethod
    async def _load(uow: UnitOfWork, event_id: int, *, for_update: bool = False) -> Event:
        event = await uow.session.get(Event, event_id, with_for_update=for_update or None)
        if event is None:
            raise NotFound(text("events.not_found", ref=event_id))
        return event

    @staticmethod
    async def _tally(uow: UnitOfWork, event_id: int) -> EventTally:
        rows = (await uow.session.execute(
            select(EventInvitation.rsvp, func.count()).where(EventInvitation.event_id == event_id)
            .group_by(EventInvitation.rsvp)
        )).all()
        counts = {rsvp: count for rsvp, count in rows}
        return EventTally(
            invited=sum(counts.values()), attending=counts.get("yes", 0), declined=counts.get("no", 0),
            pending=counts.get("pending", 0),
        )

    @staticmethod
    async def _invitees(
        uow: UnitOfWork, event_id: int, *, exclude_declined: bool
    ) -> Sequence[tuple[EventInvitation, Person]]:
        stmt = (
            select(EventInvitation, Person).join(Person, Person.id == EventInvitation.person_id)
            .where(EventInvitation.event_id == event_id).order_by(EventInvitation.id)
        )
        if exclude_declined:
            stmt = stmt.where(EventInvitation.rsvp != "no")
        return [(invitation, person) for invitation, person in (await uow.session.execute(stmt)).all()]

    @staticmethod
    async def _audience(uow: UnitOfWork, audience: str, person_ids: list[int], batch_id: int | None) -> list[Person]:
        if audience == "people":
            if not person_ids:
                raise DomainError(text("events.no_people"))
            people = (await uow.session.scalars(select(Person).where(Person.id.in_(person_ids)))).all()
            missing = sorted(set(person_ids) - {p.id for p in people})
            if missing:
                raise NotFound(text("events.people_not_found", ids="、".join(map(str, missing))))
        elif audience == "matched":
            pairs = select(Appointment).where(Appointment.status.in_(list(MATCHED_STATUSES)))
            if batch_id is not None:
                pairs = pairs.join(Application, Application.id == Appointment.university_application_id).where(
                    Application.batch_id == batch_id)
            application_ids = set()
            for pair in (await uow.session.scalars(pairs)).all():
                application_ids |= {pair.expert_application_id, pair.university_application_id}
            chosen = select(Application.person_id).where(Application.id.in_(application_ids))
            people = (await uow.session.scalars(select(Person).where(Person.id.in_(chosen)))).all()
        else:
            form = FormKind.EXPERT if audience == "experts" else FormKind.UNIVERSITY
            chosen = select(Application.person_id).where(
                Application.form == form, Application.status == ApplicationStatus.APPROVED
            )
            if batch_id is not None:
                chosen = chosen.where(Application.batch_id == batch_id)
            people = (await uow.session.scalars(select(Person).where(Person.id.in_(chosen)))).all()
        return sorted((p for p in people if p.erased_at is None), key=lambda p: p.id)


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _view(event: Event, tally: EventTally) -> EventView:
    return EventView(
        id=event.id, kind=event.kind, kind_label=EVENT_KINDS.get(event.kind, event.kind), title=event.title,
        starts_at=event.starts_at, ends_at=event.ends_at, venue=event.venue, online_url=event.online_url,
        description=event.description, status=event.status, sequence=event.sequence,
        cancel_reason=event.cancel_reason, tally=tally,
    )


def _invitation_view(invitation: EventInvitation, event: EventView, person: Person) -> InvitationView:
    return InvitationView(
        id=invitation.id, event=event, person_id=person.id, display_name=person.display_name,
        rsvp=invitation.rsvp, responded_at=invitation.responded_at,
    )
