"""After staff confirm a pair: both sides answer, staff start publicity (公示), agreement, filing (备案)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from core.db.models import Application, Appointment, AuditEntry, CourseDemand
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.domain.appointments import (
    ACTIVE_APPOINTMENTS,
    APPOINTMENT_LABELS,
    MAX_AGREEMENT_YEARS,
    AppointmentStatus,
    add_working_days,
    check_appointment_transition,
    first_working_day,
)
from core.domain.limits import AGREEMENT_CONTENT, DECLINE_REASON, FILING_NOTE, MAX_AGREEMENT_HOURS, OBJECTION_NOTE
from core.domain.permissions import Action, AnyActor
from core.domain.vocabulary import EMPLOYER_TYPES, TEACHING_MODES
from core.services.common import Clock, audit, queue_notification, retried_on_conflict, utc_now
from core.services.permissions import authorize
from core.texts import text
from core.working_days import ChinaWorkingDays

__all__ = ["AppointmentService", "AppointmentView", "PublicityPreview", "SIDES", "side_of"]

SIDES = ("expert", "university")
_S = AppointmentStatus

# One message for an appointment that does not exist and for someone else's: an id tells a participant nothing.


# A reason read by staff and by the other side: a few sentences, which read well in a chat, a page and a mail.
DECLINE_REASON_MAX = DECLINE_REASON.max


def side_of(row: Appointment, application_ids: Collection[int]) -> str | None:
    """The side of the pair ("expert" or "university") held by whoever owns these applications; None if neither."""
    if row.expert_application_id in application_ids:
        return "expert"
    if row.university_application_id in application_ids:
        return "university"
    return None


@dataclass(frozen=True)
class AppointmentView:
    id: int
    status: str
    status_label: str
    course: str
    hours: int
    mode: str
    expert_application_id: int
    expert_name: str
    employer: str
    employer_type: str
    university_application_id: int
    university_name: str
    university_province: str
    answer_by: datetime
    expert_response: str | None
    expert_reason: str | None
    university_response: str | None
    university_reason: str | None
    publicity_starts_on: date | None
    publicity_ends_on: date | None
    objections: list[dict[str, Any]]
    agreement: dict[str, Any] | None
    filed_on: date | None
    filing_note: str | None
    # The side of the person the view was made for (respond, for_person); None in staff views.
    side: str | None = None


@dataclass(frozen=True)
class PublicityPreview:
    """The period a publicity starting on a chosen day would run: shown to staff before they start it."""

    starts_on: date
    ends_on: date
    working_days: int
    warnings: list[str]


class AppointmentService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        zone: ZoneInfo,
        clock: Clock = utc_now,
        publicity_days: int = 5,
        holidays: Iterable[date] = (),
    ) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock
        self._publicity_days = publicity_days
        self._working_days = ChinaWorkingDays(holidays=holidays)

    def _today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    # Staff reads (get, list, chunks; kept_by/kept_for for the run pages) take the acting `staff` and check it
    # first; a participant reads their own through for_person / of_person.

    async def get(self, *, appointment_id: int, staff: AnyActor) -> AppointmentView:
        await authorize(self._uow, self._clock, staff, Action.APPOINTMENTS_VIEW, subject=f"appointment:{appointment_id}")
        async with self._uow() as uow:
            return await self._view(uow, await self._load(uow, appointment_id))

    async def list(self, *, staff: AnyActor, statuses: Iterable[str] | None = None,
                   batch_id: int | None = None) -> list[AppointmentView]:
        await authorize(self._uow, self._clock, staff, Action.APPOINTMENTS_VIEW)
        async with self._uow() as uow:
            stmt = select(Appointment).order_by(Appointment.id)
            if statuses is not None:
                stmt = stmt.where(Appointment.status.in_(list(statuses)))
            if batch_id is not None:
                stmt = stmt.join(Application, Application.id == Appointment.university_application_id).where(
                    Application.batch_id == batch_id)
            return await self._views(uow, (await uow.session.scalars(stmt)).all())

    async def chunks(self, *, statuses: Iterable[str], staff: AnyActor, size: int = 500) -> AsyncIterator[list[AppointmentView]]:
        """`list(statuses=...)` in order, `size` appointments at a time, as one read: a single statement (each
        appointment with both sides and its course) through a server-side cursor on PostgreSQL, so the list is
        one snapshot, every appointment exactly once whatever changes meanwhile, and the export of a national
        filing list holds one chunk at a time. (The check runs at the first step of the iteration.)"""
        await authorize(self._uow, self._clock, staff, Action.APPOINTMENTS_VIEW)
        expert, university = aliased(Application), aliased(Application)
        stmt = (select(Appointment, expert, university, CourseDemand)
                .join(expert, expert.id == Appointment.expert_application_id)
                .join(university, university.id == Appointment.university_application_id)
                .join(CourseDemand, CourseDemand.id == Appointment.demand_id)
                .where(Appointment.status.in_(list(statuses))).order_by(Appointment.id)
                .execution_options(yield_per=size))
        async with self._uow() as uow:
            result = await uow.session.stream(stmt)
            async for chunk in result.partitions():
                yield [self._as_view(row, e, u, d) for row, e, u, d in chunk]

    async def kept_by(self, *, run: Any, staff: AnyActor) -> dict[tuple[int, int, str], AppointmentView]:
        """The appointments behind a run's pairs kept from earlier runs, as they stand now, by (expert
        application, university application, course): the run page and every export of the run show them.
        Empty when the run kept no pair."""
        return await self.kept_for(pairs=run.proposals, staff=staff)

    async def kept_for(self, *, pairs: Iterable[Any], staff: AnyActor) -> dict[tuple[int, int, str], AppointmentView]:
        """`kept_by` for these pairs of a run only (a page of them): the active appointments of their experts."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW)
        experts = sorted({p.expert_application_id for p in pairs if p.fixed})
        found: dict[tuple[int, int, str], AppointmentView] = {}
        async with self._uow() as uow:
            for start in range(0, len(experts), 500):  # bound the IN list (SQLite's parameter limit)
                rows = (await uow.session.scalars(select(Appointment).where(
                    Appointment.expert_application_id.in_(experts[start:start + 500]),
                    Appointment.status.in_(list(ACTIVE_APPOINTMENTS))).order_by(Appointment.id))).all()
                found.update(((a.expert_application_id, a.university_application_id, a.course), a)
                             for a in await self._views(uow, rows))
        return found

    async def for_person(self, *, person_id: int) -> list[tuple[str, AppointmentView]]:
        """(side, appointment) for every pair this person is part of, as expert or as university contact."""
        async with self._uow() as uow:
            mine = await _application_ids(uow, person_id)
            if not mine:
                return []
            rows = (await uow.session.scalars(select(Appointment).where(
                (Appointment.expert_application_id.in_(list(mine))) | (Appointment.university_application_id.in_(list(mine)))
            ).order_by(Appointment.id))).all()
            views = [replace(view, side=side_of(row, mine)) for row, view in zip(rows, await self._views(uow, rows))]
            return [(view.side, view) for view in views]

    async def of_person(self, *, appointment_id: int, person_id: int) -> AppointmentView:
        """One proposal as this person's side sees it; someone else's reads exactly as a missing one."""
        async with self._uow() as uow:
            mine = await _application_ids(uow, person_id)
            row = await uow.session.get(Appointment, appointment_id)
            side = side_of(row, mine) if row is not None else None
            if side is None:
                raise NotFound(text("appointment.not_found"))
            [view] = await self._views(uow, [row])
            return replace(view, side=side)

    @retried_on_conflict
    async def respond(self, *, appointment_id: int, person_id: int, accept: bool, reason: str | None = None) -> AppointmentView:
        """The expert accepts or declines; the university confirms or declines. Both yes: the pair waits for
        staff to start its publicity (start_publicity), and both sides are told so.

        Only a side of the pair may answer: someone else's appointment is NotFound, like a missing one.
        The view returned carries the side this person answered for."""
        now = self._clock()
        async with self._uow() as uow:
            # Locked: the two sides answering at the same moment must not each miss the other's yes.
            row = await self._load(uow, appointment_id, for_update=True)
            side = side_of(row, await _application_ids(uow, person_id))
            if side is None:
                raise NotFound(text("appointment.not_found"))
            if row.status != _S.OFFERED:
                raise DomainError(f"该聘任已是「{APPOINTMENT_LABELS[_S(row.status)]}」，不能再答复。")
            if getattr(row, f"{side}_response") is not None:
                raise DomainError("您已经答复过了。")
            if not accept and not (reason or "").strip():
                raise DomainError(text("appointment.reason_required"), code="reason_required")
            if len((reason or "").strip()) > DECLINE_REASON_MAX:
                raise DomainError(text("appointment.reason_too_long", max=DECLINE_REASON_MAX,
                                       got=len((reason or "").strip())), code="reason_too_long",
                                  field=DECLINE_REASON.key)
            setattr(row, f"{side}_response", "accepted" if accept else "declined")
            setattr(row, f"{side}_reason", (reason or "").strip() or None)
            setattr(row, f"{side}_responded_at", now)
            row.updated_at = now
            if not accept:
                check_appointment_transition(_S(row.status), _S.DECLINED)
                row.status = _S.DECLINED
                await self._notify_both(uow, row, "match_declined", now, extra={"declined_by": side, "reason": reason or ""})
            elif row.expert_response == "accepted" and row.university_response == "accepted":
                check_appointment_transition(_S(row.status), _S.ACCEPTED)
                row.status = _S.ACCEPTED
                await self._notify_both(uow, row, "match_accepted", now)
            audit(uow, at=now, actor=f"person:{person_id}", action=f"appointment.{side}_{'accept' if accept else 'decline'}",
                  subject=f"appointment:{row.id}", reason=reason or "")
            await uow.commit()
            return replace(await self._view(uow, row), side=side)

    def publicity_preview(self, *, starts_on: date | None = None) -> PublicityPreview:
        """The period a publicity starting on `starts_on` (default: the next working day) would run.

        A day off as start moves to the next working day; a day in the past is refused."""
        today = self._today()
        if starts_on is None:
            starts_on = today + timedelta(days=1)
        elif starts_on < today:
            raise DomainError(text("appointments.publicity_past", day=starts_on.isoformat(), today=today.isoformat()),
                              code="publicity_past")
        start = first_working_day(starts_on, self._working_days)
        end = add_working_days(start, self._publicity_days, self._working_days)
        return PublicityPreview(starts_on=start, ends_on=end, working_days=self._publicity_days,
                                warnings=self.calendar_warnings(years=range(start.year, end.year + 1)))

    @retried_on_conflict
    async def start_publicity(self, *, appointment_ids: Sequence[int], staff: AnyActor,
                              starts_on: date | None = None) -> list[AppointmentView]:
        """Staff publicise (公示) pairs both sides accepted: all of them or, if one cannot start, none.

        The period is `publicity_preview(starts_on=...)`; both sides hear when it starts and when it ends."""
        staff = (await authorize(self._uow, self._clock, staff, Action.PUBLICITY_START)).actor
        ids = list(dict.fromkeys(int(i) for i in appointment_ids))
        if not ids:
            raise DomainError(text("appointments.publicity_none_chosen"), code="none_chosen")
        period = self.publicity_preview(starts_on=starts_on)
        now = self._clock()
        async with self._uow() as uow:
            rows = {r.id: r for r in (await uow.session.scalars(
                select(Appointment).where(Appointment.id.in_(ids)).order_by(Appointment.id).with_for_update())).all()}
            missing = [i for i in ids if i not in rows]
            if missing:
                raise DomainError(text("appointments.publicity_not_found", ids="、".join(map(str, missing))),
                                  code="not_found")
            ordered = [rows[i] for i in ids]
            for row, view in zip(ordered, await self._views(uow, ordered)):
                if row.status != _S.ACCEPTED:
                    raise DomainError(text(
                        "appointments.publicity_not_accepted", id=row.id, university=view.university_name,
                        course=view.course, expert=view.expert_name, status=view.status_label), code="not_accepted")
            ends_at = datetime.combine(period.ends_on + timedelta(days=1), time(9, 0), tzinfo=self._zone)
            for row in ordered:
                check_appointment_transition(_S(row.status), _S.PUBLICITY)
                row.status = _S.PUBLICITY
                row.publicity_starts_on, row.publicity_ends_on = period.starts_on, period.ends_on
                row.updated_at = now
                audit(uow, at=now, actor=staff, action="appointment.publicity_start", subject=f"appointment:{row.id}",
                      starts_on=period.starts_on.isoformat(), ends_on=period.ends_on.isoformat(),
                      working_days=period.working_days)
                await self._notify_both(uow, row, "publicity_started", now)
                await self._notify_both(uow, row, "publicity_ended", now, due_at=ends_at)
            # One period for all: the calendar warning (once per year, ever) needs checking once.
            await self._warn_uncovered_years(uow, ordered[0], now)
            await uow.commit()
            return await self._views(uow, ordered)

    async def _warn_uncovered_years(self, uow: UnitOfWork, row: Appointment, now: datetime) -> None:
        """Staff hear once per year (audit log, shown with the publicity list) that weekends were assumed."""
        for year in range(row.publicity_starts_on.year, row.publicity_ends_on.year + 1):
            if self._working_days.covers(year):
                continue
            subject = f"calendar:{year}"
            if await uow.session.scalar(select(AuditEntry.id).where(AuditEntry.subject == subject).limit(1)) is None:
                audit(uow, at=now, actor="system", action="calendar.uncovered_year", subject=subject,
                      message=text("calendar.uncovered_year", year=year), appointment_id=row.id)

    def calendar_warnings(self, *, years: Iterable[int]) -> list[str]:
        """What staff should know about the working-day calendar for these years (empty: all covered)."""
        return [text("calendar.uncovered_year", year=year) for year in sorted(set(years)) if not self._working_days.covers(year)]

    @retried_on_conflict
    async def record_objection(self, *, appointment_id: int, staff: AnyActor, note: str, upheld: bool | None) -> AppointmentView:
        """An objection raised during publicity: pending (None), dismissed (False) or upheld (True, cancels)."""
        staff = (await authorize(self._uow, self._clock, staff, Action.OBJECTION_RECORD, subject=f"appointment:{appointment_id}")).actor
        note = OBJECTION_NOTE.check(note)
        now = self._clock()
        async with self._uow() as uow:
            row = await self._load(uow, appointment_id)
            if row.status != _S.PUBLICITY:
                raise DomainError(f"只有公示中的聘任可以登记异议；当前为「{APPOINTMENT_LABELS[_S(row.status)]}」。")
            outcome = {None: "pending", True: "upheld", False: "dismissed"}[upheld]
            earlier = row.objections
            if upheld is not None:
                # A decision settles whatever was still open.
                earlier = [{**o, "outcome": f"settled:{outcome}"} if o["outcome"] == "pending" else o for o in earlier]
            row.objections = [*earlier, {"at": now.isoformat(), "by": staff, "note": note.strip(), "outcome": outcome}]
            row.updated_at = now
            if upheld:
                check_appointment_transition(_S(row.status), _S.CANCELLED)
                row.status = _S.CANCELLED
                await self._notify_both(uow, row, "publicity_cancelled", now, extra={"note": note.strip()})
            audit(uow, at=now, actor=staff, action="appointment.objection", subject=f"appointment:{row.id}",
                  outcome=outcome, note=note.strip())
            await uow.commit()
            return await self._view(uow, row)

    @retried_on_conflict
    async def record_agreement(
        self, *, appointment_id: int, staff: AnyActor, signed_on: date, term_years: int, hours: int, content: str,
        employer_consent: bool,
    ) -> AppointmentView:
        staff = (await authorize(self._uow, self._clock, staff, Action.AGREEMENT_RECORD, subject=f"appointment:{appointment_id}")).actor
        now = self._clock()
        problems = []
        if not 1 <= term_years <= MAX_AGREEMENT_YEARS:
            problems.append(f"聘期应为 1–{MAX_AGREEMENT_YEARS} 年（《普通本科高校产业兼职教师管理办法》规定每次聘期一般不超过 5 年）")
        if not 1 <= hours <= MAX_AGREEMENT_HOURS:
            problems.append(f"授课学时应为 1–{MAX_AGREEMENT_HOURS}")
        if not (content or "").strip():
            problems.append("请填写授课内容")
        elif len(content.strip()) > AGREEMENT_CONTENT.max:
            problems.append(text("limits.too_long", field=AGREEMENT_CONTENT.label, max=AGREEMENT_CONTENT.max,
                                 got=len(content.strip())).rstrip("。"))
        if not employer_consent:
            problems.append("协议须有专家所在单位同意（请确认单位同意书已存档）")
        if problems:
            raise DomainError("；".join(problems) + "。")
        async with self._uow() as uow:
            row = await self._load(uow, appointment_id)
            check_appointment_transition(_S(row.status), _S.AGREED)
            if row.publicity_ends_on is not None and self._today() <= row.publicity_ends_on:
                raise DomainError(f"公示期至 {row.publicity_ends_on.isoformat()} 结束，公示期满后才能签订协议。")
            if any(o["outcome"] == "pending" for o in row.objections):
                raise DomainError("还有未处理的公示异议，处理后才能签订协议。")
            if signed_on < (row.publicity_ends_on or signed_on):
                raise DomainError("协议签订日期不能早于公示结束日期。")
            ends_on = _years_later(signed_on, term_years) - timedelta(days=1)
            row.agreement = {
                "signed_on": signed_on.isoformat(), "term_years": term_years, "ends_on": ends_on.isoformat(),
                "hours": hours, "content": content.strip(), "employer_consent": True, "recorded_by": staff,
            }
            row.status = _S.AGREED
            row.updated_at = now
            audit(uow, at=now, actor=staff, action="appointment.agreement", subject=f"appointment:{row.id}", **row.agreement)
            await self._notify_both(uow, row, "agreement_recorded", now)
            await uow.commit()
            return await self._view(uow, row)

    @retried_on_conflict
    async def record_filing(self, *, appointment_id: int, staff: AnyActor, filed_on: date, note: str | None = None) -> AppointmentView:
        staff = (await authorize(self._uow, self._clock, staff, Action.FILING_RECORD, subject=f"appointment:{appointment_id}")).actor
        note = FILING_NOTE.optional(note)
        now = self._clock()
        async with self._uow() as uow:
            row = await self._load(uow, appointment_id)
            check_appointment_transition(_S(row.status), _S.FILED)
            if filed_on < date.fromisoformat(row.agreement["signed_on"]):
                raise DomainError("备案日期不能早于协议签订日期。")
            row.status, row.filed_on, row.filing_note, row.updated_at = _S.FILED, filed_on, (note or "").strip() or None, now
            audit(uow, at=now, actor=staff, action="appointment.filing", subject=f"appointment:{row.id}", filed_on=filed_on.isoformat())
            await self._notify_both(uow, row, "filing_recorded", now)
            await uow.commit()
            return await self._view(uow, row)

    async def overdue(self) -> list[AppointmentView]:
        """Offers past their answer deadline with a side still silent: for the staff digest."""
        now = self._clock()
        async with self._uow() as uow:
            rows = (await uow.session.scalars(select(Appointment).where(
                Appointment.status == _S.OFFERED, Appointment.answer_by < now))).all()
            return await self._views(uow, rows)

    # ------------------------------------------------------------------ helpers

    async def _load(self, uow: UnitOfWork, appointment_id: int, *, for_update: bool = False) -> Appointment:
        row = await uow.session.get(Appointment, appointment_id, with_for_update=for_update or None)
        if row is None:
            raise NotFound(text("appointment.not_found"))
        return row

    async def _notify_both(self, uow: UnitOfWork, row: Appointment, kind: str, now: datetime, *,
                           due_at: datetime | None = None, extra: dict[str, Any] | None = None) -> None:
        view = await self._view(uow, row)
        expert = await uow.applications.get(row.expert_application_id)
        university = await uow.applications.get(row.university_application_id)
        payload = {
            "appointment_id": row.id, "course": view.course, "hours": view.hours, "expert": view.expert_name,
            "employer": view.employer, "university": view.university_name,
            "publicity_starts_on": view.publicity_starts_on.isoformat() if view.publicity_starts_on else "",
            "publicity_ends_on": view.publicity_ends_on.isoformat() if view.publicity_ends_on else "",
            "status": view.status_label, **(extra or {}),
        }
        if kind in ("publicity_started", "agreement_recorded"):
            # Contacts are shared once both sides have said yes, not before.
            payload["expert_contact"] = {"mobile": expert.answers.get("mobile"), "email": expert.answers.get("email")}
            payload["university_contact"] = {
                "name": university.answers.get("contact_name"), "mobile": university.answers.get("contact_mobile"),
                "email": university.answers.get("contact_email"),
            }
        for side, app in (("expert", expert), ("university", university)):
            person = await uow.people.get(app.person_id)
            if person is None:
                continue
            name = app.answers.get("name") if side == "expert" else app.answers.get("contact_name")
            await queue_notification(
                uow, kind=kind, person=person, now=now, due_at=due_at,
                occasion=f"appointment-{row.id}-{kind}-{side}", payload={**payload, "side": side, "name": name or ""},
            )

    async def _view(self, uow: UnitOfWork, row: Appointment) -> AppointmentView:
        return (await self._views(uow, [row]))[0]

    async def _views(self, uow: UnitOfWork, rows: Sequence[Appointment]) -> list[AppointmentView]:
        """Two queries for any number of appointments: publicity and filing lists run to thousands."""
        ids = {r.expert_application_id for r in rows} | {r.university_application_id for r in rows}
        applications = {a.id: a for a in (await uow.session.scalars(select(Application).where(Application.id.in_(ids)))).all()}
        demands = {d.id: d for d in (await uow.session.scalars(
            select(CourseDemand).where(CourseDemand.id.in_({r.demand_id for r in rows})))).all()}
        return [self._as_view(r, applications[r.expert_application_id], applications[r.university_application_id],
                              demands[r.demand_id]) for r in rows]

    @staticmethod
    def _as_view(row: Appointment, expert: Application, university: Application, demand: CourseDemand) -> AppointmentView:
        return AppointmentView(
            id=row.id, status=row.status, status_label=APPOINTMENT_LABELS[_S(row.status)], course=demand.course,
            hours=demand.hours, mode=TEACHING_MODES.get(demand.mode, demand.mode),
            expert_application_id=expert.id, expert_name=expert.answers.get("name", ""),
            employer=expert.answers.get("employer", ""),
            employer_type=EMPLOYER_TYPES.get(expert.answers.get("employer_type"), ""),
            university_application_id=university.id, university_name=university.answers.get("university_name", ""),
            university_province=university.answers.get("province", ""), answer_by=row.answer_by,
            expert_response=row.expert_response, expert_reason=row.expert_reason,
            university_response=row.university_response, university_reason=row.university_reason,
            publicity_starts_on=row.publicity_starts_on, publicity_ends_on=row.publicity_ends_on,
            objections=list(row.objections), agreement=row.agreement, filed_on=row.filed_on, filing_note=row.filing_note,
        )


async def _application_ids(uow: UnitOfWork, person_id: int) -> set[int]:
    return {app.id for app in await uow.applications.list_for_person(person_id)}


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)
