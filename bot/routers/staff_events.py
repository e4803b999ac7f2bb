"""Staff events in chat: /newevent on one line, /events with the RSVP tally.

/newevent 类型 | 名称 | 开始时间 | 结束时间 | 地点或链接 | 邀请对象
  类型      岗前示范交流活动、校企对接活动、教学研讨会 (or demo_workshop, matchmaking, seminar)
  时间      2025-09-01 14:00, Beijing time; the end may be a bare 16:00 on the same day
  地点或链接 starting with http: the online link; otherwise the venue (optional)
  邀请对象   experts | universities | people:1,2,3 (optional; invite later with the CLI)
/newevent with nothing after it answers with this help (text "events.newevent_help").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.filters import IsStaff, staff_action
from core.bootstrap import Core
from core.domain import DomainError
from core.domain.permissions import Action, StaffActor
from core.services import PersonView
from core.services.events import AUDIENCES, parse_event_time
from core.texts import text

__all__ = ["create_router", "parse_newevent", "NewEvent"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewEvent:
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online_url: str | None
    audience: str | None
    person_ids: list[int]


def parse_newevent(args: str, zone) -> NewEvent:
    """Raises DomainError with the Chinese message to show."""
    parts = [part.strip() for part in args.replace("｜", "|").split("|")]
    if len(parts) < 4 or not all(parts[:4]):
        raise DomainError(text("events.newevent_bad_syntax") + "\n" + text("events.newevent_help"))
    kind, title, start_raw, end_raw = parts[:4]
    starts_at = parse_event_time(start_raw, zone)
    if starts_at is None:
        raise DomainError(text("events.newevent_bad_time", raw=start_raw))
    ends_at = parse_event_time(end_raw, zone, on=starts_at.date())
    if ends_at is None:
        raise DomainError(text("events.newevent_bad_time", raw=end_raw))
    place = parts[4] if len(parts) > 4 else ""
    online = place if place.lower().startswith(("http://", "https://")) else None
    audience_raw = parts[5] if len(parts) > 5 else ""
    audience, person_ids = None, []
    if audience_raw:
        name, _, ids = audience_raw.partition(":")
        name = name.strip().lower()
        if name not in AUDIENCES:
            raise DomainError(text("events.unknown_audience", audience=audience_raw, audiences="、".join(AUDIENCES)))
        audience = name
        if name == "people":
            try:
                person_ids = [int(i) for i in ids.replace("，", ",").split(",") if i.strip()]
            except ValueError:
                raise DomainError(text("events.no_people")) from None
    return NewEvent(kind=kind, title=title, starts_at=starts_at, ends_at=ends_at,
                    venue=None if online else (place or None), online_url=online, audience=audience,
                    person_ids=person_ids)


async def new_event(message: Message, command: CommandObject, core: Core, staff_actor: StaffActor) -> None:
    if not (command.args or "").strip():
        await message.answer(text("events.newevent_help"))
        return
    zone = core.settings.zone
    actor = staff_actor
    try:
        spec = parse_newevent(command.args, zone)
        event = await core.events.create(
            kind=spec.kind, title=spec.title, starts_at=spec.starts_at, ends_at=spec.ends_at, venue=spec.venue,
            online_url=spec.online_url, actor=actor,
        )
        lines = [text("events.created", id=event.id, title=event.title,
                      starts=event.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"))]
        if spec.audience:
            result = await core.events.invite(
                event_id=event.id, actor=actor, audience=spec.audience, person_ids=spec.person_ids
            )
            lines.append(text("events.invited", count=result.invited, already=result.already_invited))
    except DomainError as error:
        await message.answer(error.message)
        return
    await message.answer("\n".join(lines))


async def list_events(message: Message, core: Core, staff_actor: StaffActor) -> None:
    events = await core.events.list(staff=staff_actor)
    if not events:
        await message.answer(text("events.none"))
        return
    zone = core.settings.zone
    await message.answer("\n".join(
        text("events.list_line", id=e.id, kind=e.kind_label, title=e.title,
             starts=e.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), yes=e.tally.attending,
             no=e.tally.declined, pending=e.tally.pending)
        for e in events
    ))


async def not_allowed(message: Message, core: Core, person: PersonView | None = None) -> None:
    log.warning("non-staff user %s tried %s", message.from_user.id if message.from_user else None,
                (message.text or "").split(" ", 1)[0])
    if person is not None:  # the update middleware names every human sender; a bare dispatcher may not
        await core.people.record_forbidden(person_id=person.id, attempted=message.text or "")
    await message.answer(text("events.staff_only"))


def create_router() -> Router:
    router = Router(name="staff_events")
    router.message.register(staff_action(Action.EVENTS_MANAGE, new_event), Command("newevent"), IsStaff())
    router.message.register(staff_action(Action.EVENTS_VIEW, list_events), Command("events"), IsStaff())
    router.message.register(not_allowed, Command("newevent", "events"))
    return router

