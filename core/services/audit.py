"""The audit log as staff search it (Action.AUDIT_READ, checked here whatever the entry point): by actor (a staff
member's name finds their console and chat actions), subject and action; newest first, paged by id."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text as sql

from core.db.models import AuditEntry, Person
from core.db.uow import UnitOfWorkFactory
from core.domain.permissions import Action, AnyActor
from core.services.common import Clock, utc_now
from core.services.permissions import authorize
from core.services.staff_accounts import StaffAccountService
from core.texts import ZH_CN, text

__all__ = ["AuditRow", "AuditPage", "AuditService", "PAGE_SIZE", "logged_actions"]

PAGE_SIZE = 50
# A subject named in full: one of the kinds the services log, and its id (application:12, match_run:3). Any other
# text (a part of a subject, a kind added later) is searched as a substring.
_SUBJECT_KINDS = ("application", "appointment", "batch", "event", "match_run", "person", "staff_account")
_WHOLE_SUBJECT = re.compile(rf"(?:{'|'.join(_SUBJECT_KINDS)}):\d+", re.IGNORECASE)

# The actions the log holds, each found by one step down ix_audit_log_action (migration 0019), from the smallest
# to the next larger: as many index lookups as there are distinct actions (a few dozen), instead of a
# SELECT DISTINCT that read every entry of the log (hundreds of thousands at national scale). The same SQL on
# SQLite and PostgreSQL.
_ACTIONS = sql("""
WITH RECURSIVE found(action) AS (
    SELECT MIN(action) FROM audit_log
    UNION ALL
    SELECT (SELECT MIN(later.action) FROM audit_log AS later WHERE later.action > found.action)
    FROM found WHERE found.action IS NOT NULL
)
SELECT action FROM found WHERE action IS NOT NULL
""")


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    actor_name: str
    action: str
    subject: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    next_before: int | None
    actions: list[str]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class AuditService:
    """The audit log for staff: `search` checks Action.AUDIT_READ first, then reads."""

    def __init__(self, *, uow: UnitOfWorkFactory, staff: StaffAccountService, zone: ZoneInfo,
                 clock: Clock = utc_now) -> None:
        self._uow = uow
        self._staff = staff
        self._zone = zone
        self._clock = clock

    async def search(self, *, staff: AnyActor, actor_query: str = "", subject: str = "", action: str = "",
                     day_from: date | None = None, day_to: date | None = None, before: int | None = None,
                     page_size: int = PAGE_SIZE) -> AuditPage:
        """One page of the log under the filters; `actor_query` also finds the entries of the staff accounts
        whose name or e-mail holds it (their console and chat actor strings)."""
        await authorize(self._uow, self._clock, staff, Action.AUDIT_READ)
        return await _search_audit(
            self._uow, actor_names=await self._staff.actor_names(), actor_query=actor_query,
            actors_named=await self._staff.actors_of(name_or_email=actor_query) if actor_query else [],
            subject=subject, action=action, day_from=day_from, day_to=day_to, zone=self._zone, before=before,
            page_size=page_size)


async def _search_audit(uow_factory: UnitOfWorkFactory, *, actor_names: dict[str, str], actor_query: str = "",
                       actors_named: list[str] = (), subject: str = "", action: str = "", day_from: date | None = None,
                       day_to: date | None = None, zone: ZoneInfo, before: int | None = None,
                       page_size: int = PAGE_SIZE) -> AuditPage:
    """The search itself, unchecked: only AuditService.search, which checks first, calls it."""
    async with uow_factory() as uow:
        session = uow.session
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(page_size + 1)
        if actor_query:
            matches = [func.lower(AuditEntry.actor).like(_like(actor_query), escape="\\")]
            if actors_named:
                matches.append(AuditEntry.actor.in_(list(actors_named)))
            query = query.where(or_(*matches))
        if subject:
            whole = _WHOLE_SUBJECT.fullmatch(subject.strip())
            if whole:
                # One subject named in full (the page's own links: application:12): that subject's entries, read
                # from ix_audit_log_subject, not the substring test of every entry (which also found
                # application:120 to 129 for application:12).
                query = query.where(AuditEntry.subject == whole.group(0).lower())
            else:
                query = query.where(func.lower(AuditEntry.subject).like(_like(subject), escape="\\"))
        if action:
            query = query.where(func.lower(AuditEntry.action).like(_like(action), escape="\\"))
        if day_from:
            query = query.where(AuditEntry.at >= datetime.combine(day_from, time(0), tzinfo=zone))
        if day_to:
            query = query.where(AuditEntry.at < datetime.combine(day_to + timedelta(days=1), time(0), tzinfo=zone))
        if before is not None:
            query = query.where(AuditEntry.id < before)
        found = list((await session.scalars(query)).all())
        entries = found[:page_size]
        person_ids = {int(e.actor.split(":", 1)[1]) for e in entries
                      if e.actor.startswith("person:") and e.actor.split(":", 1)[1].isdigit()}
        people = {}
        if person_ids:
            people = dict((await session.execute(
                select(Person.id, Person.display_name).where(Person.id.in_(person_ids)))).all())
        actions = await logged_actions(session)
        found_rows = [(e.id, e.at, e.actor, e.action, e.subject, e.detail or {}) for e in entries]
        has_more = len(found) > page_size

    def name_of(actor: str) -> str:
        if actor in actor_names:
            return actor_names[actor]
        kind, _, ref = actor.partition(":")
        if kind == "person" and ref.isdigit():
            return people.get(int(ref)) or text("audit.actor.person", ref=ref)
        if kind == "staff":
            return text("audit.actor.chat_staff", ref=ref)
        if kind == "login":
            return text("audit.actor.login", ref=ref)
        return ZH_CN.get(f"audit.actor.{actor}", actor)

    rows = [AuditRow(i, at, actor, name_of(actor), action, subject, detail)
            for i, at, actor, action, subject, detail in found_rows]
    return AuditPage(rows=rows, next_before=rows[-1].id if has_more else None, actions=actions)


async def logged_actions(session) -> list[str]:
    """Every distinct action in the audit log, in order (the action filter's suggestions)."""
    return list((await session.scalars(_ACTIONS)).all())
