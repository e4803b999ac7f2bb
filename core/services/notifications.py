"""What the notifier asks of the domain: which reminders and digests are due, whether a queued
notice still applies when its turn comes, and the staff view of the outbox (status, retry).

Scheduling writes outbox rows whose idempotency keys name the occasion (batch deadline date,
event start time, digest date), so running the scheduler twice, or in two processes at once,
adds nothing; a moved deadline or event gets new keys, and the rows for the old date lapse
at send time (`lapsed_reason`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, text as sql_text, update
from sqlalchemy.dialects import postgresql, sqlite

from core.db.models import (
    Appointment, Application, Batch, ChannelPause, Event, EventInvitation, OutboxMessage, Person, PersonIdentity,
)
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain.appointments import AppointmentStatus
from core.domain import ApplicationStatus, NotFound
from core.forms import get_form
from core.services.common import CHANNELS, Clock, channels_for, audit, utc_now, with_channels
from core.services.events import CANCELLED, event_payload
from core.services.figures import needs_info_count, outbox_figures, queue_figures, status_counts, submitted_count
from core.services.preferences import UNSUBSCRIBED_REASON, opted_out, opted_out_people, preference_kind, skipped
from core.services.privacy import mask_email, mask_phone
from core.texts import ZH_CN
from core.domain.permissions import Action, AnyActor
from core.services.permissions import authorize

__all__ = [
    "OUTBOX_CHANNEL",
    "ChannelPauseView",
    "OutboxStatus",
    "OutboxRow",
    "OutboxPage",
    "OUTBOX_STATES",
    "RETRYABLE",
    "NotificationService",
    "QUEUED",
    "SENDING",
    "SENT",
    "FAILED",
    "UNKNOWN",
    "SKIPPED",
    "notify_workers",
]

QUEUED, SENDING, SENT, FAILED, UNKNOWN, SKIPPED = "queued", "sending", "sent", "failed", "unknown", "skipped"
# The PostgreSQL NOTIFY channel the outbox trigger (migration 0002) signals on.
OUTBOX_CHANNEL = "innoeng_outbox"

# A reminder whose moment passed while no notifier ran is still worth sending this long after;
# later, the next reminder (or the deadline itself) has overtaken it.
DEADLINE_REMINDER_GRACE = timedelta(hours=12)
DIGEST_GRACE = timedelta(hours=12)
# Rows are written this far ahead of their moment, so that they exist (and can be inspected,
# or lapse) before they are due, without filling the outbox weeks ahead.
LOOKAHEAD = timedelta(days=1)
EVENT_REMINDER_OFFSETS: tuple[tuple[str, timedelta], ...] = (("T-1d", timedelta(days=1)), ("T-1h", timedelta(hours=1)))
DIGEST_LIST_LIMIT = 50
# Drafts count as "near the deadline" in the digest within this many days of it.
DIGEST_DRAFT_HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class ChannelPauseView:
    channel: str
    paused_at: datetime
    reason: str
    probe_at: datetime


@dataclass(frozen=True)
class OutboxStatus:
    by_status: dict[str, int]
    due: int  # queued and due now
    oldest_due_at: datetime | None
    failed_by_reason: list[tuple[str, int]]
    paused_channels: list[ChannelPauseView] = ()


# The outbox as staff read it (NotificationService.outbox): filtered, newest first, paged by id, addresses masked.
OUTBOX_STATES = (FAILED, UNKNOWN, QUEUED, SENDING, SENT, SKIPPED)
RETRYABLE = frozenset({FAILED, UNKNOWN, SKIPPED})
OUTBOX_PAGE_SIZE = 50


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    channel: str
    status: str
    recipient: str
    address: str
    attempts: int
    due_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    reason: str | None
    provider_reply: str | None

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    counts: dict[tuple[str, str], int]  # (status, channel) → rows
    kinds: list[str]
    next_before: int | None


def _listed_address(channel: str, address: str | None) -> str:
    if not address:
        return "（无地址）"
    # The page names the channel beside the address ("Telegram …7001"), so the address does not repeat it.
    return mask_email(address) if channel == "email" else f"…{address[-4:]}"


async def notify_workers(uow: UnitOfWork) -> None:
    """Wakes LISTENing workers when the caller commits (PostgreSQL; elsewhere they poll)."""
    if uow.session.bind.dialect.name == "postgresql":
        await uow.session.execute(sql_text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})


class NotificationService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        zone: ZoneInfo,
        clock: Clock = utc_now,
        reminder_hour: int = 10,
        reminder_days: Sequence[int] = (7, 3, 1),
        digest_hour: int = 9,
        staff_emails: Sequence[str] = (),
        needs_info_overdue_days: int = 7,
    ) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock
        self._reminder_hour = reminder_hour
        self._reminder_days = tuple(sorted(set(reminder_days), reverse=True))
        self._digest_hour = digest_hour
        self._staff_emails = tuple(dict.fromkeys(e.strip() for e in staff_emails if e.strip()))
        self._needs_info_overdue = timedelta(days=needs_info_overdue_days)

    @classmethod
    def from_settings(cls, settings, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> "NotificationService":
        return cls(
            uow=uow, zone=settings.zone, clock=clock, reminder_hour=settings.reminder_hour,
            reminder_days=settings.deadline_reminder_days, digest_hour=settings.digest_hour,
            staff_emails=settings.staff_emails, needs_info_overdue_days=settings.needs_info_overdue_days,
        )

    # ------------------------------------------------------------------ scheduling

    async def schedule_all(self) -> dict[str, int]:
        """One scheduler tick: every kind of timed notice; returns rows written per kind."""
        return {
            "deadline_reminder": await self.schedule_deadline_reminders(),
            "workshop_reminder": await self.schedule_event_reminders(),
            "staff_digest": await self.schedule_staff_digest(),
        }

    async def schedule_deadline_reminders(self) -> int:
        """Unfinished drafts hear at T-7/T-3/T-1 days, reminder_hour local time, before the CURRENT deadline."""
        now = self._clock()
        written = 0
        async with self._uow() as uow:
            batches = (await uow.session.scalars(select(Batch).where(Batch.registration_closes_at > now))).all()
            for batch in batches:
                deadline = batch.registration_closes_at
                deadline_date = deadline.astimezone(self._zone).date()
                for days in self._reminder_days:
                    send_at = datetime.combine(deadline_date - timedelta(days=days), time(self._reminder_hour),
                                               tzinfo=self._zone)
                    if send_at >= deadline or now > send_at + DEADLINE_REMINDER_GRACE or send_at > now + LOOKAHEAD:
                        continue
                    drafts = (await uow.session.execute(
                        select(Application, Person).join(Person, Person.id == Application.person_id)
                        .where(Application.batch_id == batch.id, Application.status == ApplicationStatus.DRAFT,
                               Person.erased_at.is_(None))
                        .order_by(Application.id)
                    )).all()
                    rows = []
                    for app, person in drafts:
                        payload = {
                            "application_id": app.id, "form": app.form, "form_title": get_form(app.form).title,
                            "name": app.answers.get("name") or app.answers.get("contact_name")
                            or person.display_name or "",
                            "batch": batch.name, "batch_id": batch.id, "deadline": deadline.isoformat(),
                            "deadline_date": deadline_date.isoformat(), "days_left": days,
                        }
                        occasion = f"batch-{batch.id}-deadline-{deadline_date.isoformat()}-T{days}-application-{app.id}"
                        rows += _route_rows(kind="deadline_reminder", person=person, occasion=occasion,
                                            payload=payload, now=now, due_at=max(send_at, now))
                    written += await _insert_new(uow, await _honour_opt_outs(uow, "deadline_reminder", rows))
            await uow.commit()
        return written

    async def schedule_event_reminders(self) -> int:
        """Those attending hear T-1 day and T-1 hour before the CURRENT start time."""
        now = self._clock()
        written = 0
        async with self._uow() as uow:
            events = (await uow.session.scalars(
                select(Event).where(Event.status != CANCELLED, Event.starts_at > now,
                                    Event.starts_at <= now + LOOKAHEAD + EVENT_REMINDER_OFFSETS[0][1])
            )).all()
            for event in events:
                attendees = (await uow.session.execute(
                    select(EventInvitation, Person).join(Person, Person.id == EventInvitation.person_id)
                    .where(EventInvitation.event_id == event.id, EventInvitation.rsvp == "yes",
                           Person.erased_at.is_(None))
                    .order_by(EventInvitation.id)
                )).all()
                for label, offset in EVENT_REMINDER_OFFSETS:
                    send_at = event.starts_at - offset
                    # Half the lead time late is still a useful reminder; later, the next one takes over.
                    if now > send_at + offset / 2 or send_at > now + LOOKAHEAD:
                        continue
                    rows = []
                    for invitation, person in attendees:
                        payload = event_payload(event, invitation=invitation, person=person) | {"lead": label}
                        occasion = f"event-{event.id}-{event.starts_at.strftime('%Y%m%dT%H%MZ')}-{label}"
                        rows += _route_rows(kind="workshop_reminder", person=person, occasion=occasion,
                                            payload=payload, now=now, due_at=max(send_at, now))
                    written += await _insert_new(uow, await _honour_opt_outs(uow, "workshop_reminder", rows))
                    if label == "T-1d":
                        # A workshop tomorrow cannot wait: also an SMS, to a verified mobile only.
                        sms = await _sms_rows(uow, kind="workshop_tomorrow", attendees=attendees, event=event,
                                              label=label, now=now, due_at=max(send_at, now))
                        written += await _insert_new(uow, await _honour_opt_outs(uow, "workshop_tomorrow", sms))
            await uow.commit()
        return written

    async def schedule_staff_digest(self) -> int:
        """One digest a day at digest_hour local time, to each address in STAFF_EMAILS."""
        if not self._staff_emails:
            return 0
        now = self._clock()
        today = now.astimezone(self._zone).date()
        digest_at = datetime.combine(today, time(self._digest_hour), tzinfo=self._zone)
        if not (digest_at <= now <= digest_at + DIGEST_GRACE):
            return 0
        keys = {address: f"staff_digest:{today.isoformat()}:{address}" for address in self._staff_emails}
        async with self._uow() as uow:
            existing = await _existing_keys(uow, keys.values())
            missing = [address for address, key in keys.items() if key not in existing]
            if not missing:
                return 0
            payload = await self._digest_payload(uow, today=today, digest_at=digest_at, now=now)
            rows = [
                _row(kind="staff_digest", channel="email", person_id=None, address=address, key=keys[address],
                     payload=payload, now=now, due_at=now)
                for address in missing
            ]
            written = await _insert_new(uow, rows)
            await uow.commit()
            return written

    async def _digest_payload(self, uow: UnitOfWork, *, today: date, digest_at: datetime, now: datetime) -> dict[str, Any]:
        session = uow.session

        async def with_people(stmt) -> list[tuple[Application, Person]]:
            return [(a, p) for a, p in (await session.execute(stmt)).all()]

        def line(app: Application, person: Person, **extra: Any) -> dict[str, Any]:
            answers = app.answers or {}
            return {
                "reference": f"{'E' if app.form == 'expert' else 'U'}{app.batch_id:02d}-{app.id:06d}",
                "form_title": get_form(app.form).title,
                "name": answers.get("name") or answers.get("university_name") or person.display_name or f"#{app.id}",
                "province": app.province or answers.get("province") or "",
                "phone": mask_phone(person.mobile),
                "email": mask_email(person.email),
                **extra,
            }

        base = select(Application, Person).join(Person, Person.id == Application.person_id)
        # The digest says "as of <now>, the past 24 hours": the window ends when it is written,
        # not at the digest hour (a digest written late would otherwise miss the latest ones).
        since = now - timedelta(days=1)
        new = await with_people(
            base.where(Application.submitted_at > since, Application.submitted_at <= now,
                       Application.status != ApplicationStatus.DRAFT)
            .order_by(Application.submitted_at).limit(DIGEST_LIST_LIMIT)
        )
        # The figures come from core.services.figures, as the console's dashboard and the bot's /stats and /pending.
        pending_count = (await queue_figures(uow)).waiting
        new_count = await submitted_count(uow, since=since, until=now)
        overdue_count = await needs_info_count(uow, asked_before=now - self._needs_info_overdue)
        pending = await with_people(
            base.where(Application.status == ApplicationStatus.SUBMITTED)
            .order_by(Application.submitted_at, Application.id).limit(DIGEST_LIST_LIMIT)
        )
        overdue = await with_people(
            base.where(Application.status == ApplicationStatus.NEEDS_INFO,
                       Application.reviewed_at < now - self._needs_info_overdue)
            .order_by(Application.reviewed_at).limit(DIGEST_LIST_LIMIT)
        )
        near_batches = (await session.scalars(
            select(Batch).where(Batch.registration_closes_at > now,
                                Batch.registration_closes_at <= now + DIGEST_DRAFT_HORIZON)
            .order_by(Batch.registration_closes_at)
        )).all()
        near_counts = await status_counts(uow, [batch.id for batch in near_batches])
        drafts_near = []
        for batch in near_batches:
            count = sum(by_status[ApplicationStatus.DRAFT] for by_status in near_counts[batch.id].values())
            drafts = await with_people(
                base.where(Application.batch_id == batch.id, Application.status == ApplicationStatus.DRAFT)
                .order_by(Application.updated_at.desc()).limit(DIGEST_LIST_LIMIT)
            )
            drafts_near.append({
                "batch": batch.name, "deadline": batch.registration_closes_at.isoformat(), "count": count,
                "items": [line(a, p, updated_at=a.updated_at.isoformat()) for a, p in drafts],
            })
        failed_rows = (await session.execute(
            select(OutboxMessage.status, OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.address,
                   OutboxMessage.last_error, OutboxMessage.last_attempt_at)
            .where(OutboxMessage.status.in_([FAILED, UNKNOWN]))
            .order_by(OutboxMessage.last_attempt_at.desc(), OutboxMessage.id.desc()).limit(DIGEST_LIST_LIMIT)
        )).all()
        failed_count = (await outbox_figures(uow)).problems
        unanswered = []
        for appointment in (await session.scalars(
            select(Appointment).where(Appointment.status == AppointmentStatus.OFFERED, Appointment.answer_by < now)
            .order_by(Appointment.answer_by).limit(DIGEST_LIST_LIMIT)
        )).all():
            expert = await session.get(Application, appointment.expert_application_id)
            university = await session.get(Application, appointment.university_application_id)
            silent = [label for side, label in (("expert", "专家"), ("university", "高校"))
                      if getattr(appointment, f"{side}_response") is None]
            unanswered.append({
                "appointment_id": appointment.id, "expert": (expert.answers or {}).get("name", ""),
                "university": (university.answers or {}).get("university_name", ""),
                "answer_by": appointment.answer_by.isoformat(), "silent": "、".join(silent),
            })
        # Pairs both sides accepted wait for staff to start their publicity: how many, and since when the
        # oldest waits (its second yes), so the digest reminds staff to start it.
        waiting_since = [
            max((t for t in (expert_at, university_at) if t is not None), default=updated_at)
            for expert_at, university_at, updated_at in (await session.execute(
                select(Appointment.expert_responded_at, Appointment.university_responded_at, Appointment.updated_at)
                .where(Appointment.status == AppointmentStatus.ACCEPTED))).all()
        ]
        oldest = min(waiting_since, default=None)
        pauses = (await session.scalars(select(ChannelPause).order_by(ChannelPause.channel))).all()
        return {
            "date": today.isoformat(),
            "generated_at": now.isoformat(),
            "paused_channels": [
                {"channel": p.channel, "channel_label": _CHANNEL_LABELS.get(p.channel, p.channel), "reason": p.reason,
                 "paused_at": p.paused_at.isoformat()}
                for p in pauses
            ],
            "new_submissions": [line(a, p, submitted_at=a.submitted_at.isoformat()) for a, p in new],
            "new_submissions_count": new_count,
            "pending_count": pending_count,
            "pending_reviews": [
                line(a, p, submitted_at=a.submitted_at.isoformat(), age_days=(now - a.submitted_at).days)
                for a, p in pending
            ],
            "needs_info_overdue_count": overdue_count,
            "needs_info_overdue": [
                line(a, p, asked_at=a.reviewed_at.isoformat(), days_waiting=(now - a.reviewed_at).days)
                for a, p in overdue
            ],
            "drafts_near_deadline": drafts_near,
            "unanswered_proposals": unanswered,
            "awaiting_publicity": {
                "count": len(waiting_since),
                "oldest_since": oldest.isoformat() if oldest else None,
                "oldest_days": max(0, (now - oldest).days) if oldest else 0,
            },
            "failed_count": failed_count,
            "failed_notifications": [
                {"status": status, "kind": kind, "channel": channel, "address": _mask_address(channel, address),
                 "error": (error or "")[:300]}
                for status, kind, channel, address, error, _ in failed_rows
            ],
        }

    # ------------------------------------------------------------------ at send time

    async def lapsed_reason(self, *, kind: str, payload: dict[str, Any], person_id: int | None = None) -> str | None:
        """Why a queued notice no longer applies (it is then skipped, not sent), or None. With `person_id`,
        a kind the person unsubscribed from after it was queued lapses too."""
        check = _LAPSE_CHECKS.get(kind)
        if check is None and (person_id is None or preference_kind(kind) is None):
            return None
        now = self._clock()
        async with self._uow() as uow:
            if await opted_out(uow, person_id, kind):
                return UNSUBSCRIBED_REASON
            return await check(self, uow, payload, now) if check is not None else None

    async def _deadline_reminder_lapsed(self, uow: UnitOfWork, payload: dict[str, Any], now: datetime) -> str | None:
        app = await uow.session.get(Application, payload.get("application_id"))
        if app is None:
            return "申请已删除"
        if app.status != ApplicationStatus.DRAFT:
            return f"申请已不是草稿（当前状态 {app.status}），无需提醒"
        batch = await uow.session.get(Batch, app.batch_id)
        deadline_date = batch.registration_closes_at.astimezone(self._zone).date().isoformat()
        if deadline_date != payload.get("deadline_date"):
            return f"报名截止日期已改为 {deadline_date}，此提醒按旧日期 {payload.get('deadline_date')} 生成"
        if now >= batch.registration_closes_at:
            return "报名已截止"
        return None

    async def _event_notice_lapsed(self, uow: UnitOfWork, payload: dict[str, Any], now: datetime) -> str | None:
        event = await uow.session.get(Event, payload.get("event_id"))
        if event is None:
            return "活动已删除"
        if event.status == CANCELLED:
            return "活动已取消"
        if event.starts_at <= now:
            return "活动已开始"
        if int(payload.get("sequence", 0)) < event.sequence:
            return "活动信息已更新，已改发更新后的通知"
        invitation = await uow.session.get(EventInvitation, payload.get("invitation_id"))
        if invitation is None:
            return "邀请已不存在"
        return None

    async def _event_reminder_lapsed(self, uow: UnitOfWork, payload: dict[str, Any], now: datetime) -> str | None:
        event = await uow.session.get(Event, payload.get("event_id"))
        if event is None:
            return "活动已删除"
        if event.status == CANCELLED:
            return "活动已取消"
        if event.starts_at.isoformat() != payload.get("starts_at"):
            return "活动时间已变更，提醒已按新时间重新安排"
        if event.starts_at <= now:
            return "活动已开始"
        invitation = await uow.session.get(EventInvitation, payload.get("invitation_id"))
        if invitation is None or invitation.rsvp != "yes":
            return "对方已不再确认参加"
        return None

    # ------------------------------------------------------------------ staff view

    async def status(self, *, staff: AnyActor) -> OutboxStatus:
        await authorize(self._uow, self._clock, staff, Action.NOTIFICATIONS_VIEW)
        now = self._clock()
        async with self._uow() as uow:
            session = uow.session
            by_status = {s: c for s, c in (await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )).all()}
            due_filter = and_(OutboxMessage.status == QUEUED, OutboxMessage.due_at <= now)
            due = await session.scalar(select(func.count()).select_from(OutboxMessage).where(due_filter)) or 0
            oldest = await session.scalar(select(func.min(OutboxMessage.due_at)).where(due_filter))
            reasons = (await session.execute(
                select(OutboxMessage.last_error, func.count()).where(OutboxMessage.status.in_([FAILED, UNKNOWN]))
                .group_by(OutboxMessage.last_error).order_by(func.count().desc())
            )).all()
            pauses = (await session.scalars(select(ChannelPause).order_by(ChannelPause.channel))).all()
            return OutboxStatus(
                by_status, due, oldest, [(reason or "", count) for reason, count in reasons],
                [ChannelPauseView(p.channel, p.paused_at, p.reason, p.probe_at) for p in pauses],
            )

    async def pause_channel(self, *, channel: str, reason: str, probe_in: timedelta) -> bool:
        """A channel that cannot deliver anything (e.g. the bot token was revoked): its rows stay
        queued until a probe succeeds. Staff hear of it once per pause; returns True then."""
        now = self._clock()
        async with self._uow() as uow:
            dialect = uow.session.bind.dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            created = await uow.session.execute(
                insert(ChannelPause.__table__).values(
                    channel=channel, paused_at=now, reason=reason, probe_at=now + probe_in, probes=0,
                ).on_conflict_do_nothing(index_elements=["channel"])
            )
            if not created.rowcount:
                # Still down: the probe failed. Try less often, up to an hour apart.
                pause = await uow.session.get(ChannelPause, channel)
                if pause is not None:
                    pause.reason = reason
                    pause.probe_at = now + min(probe_in * (2 ** min(pause.probes, 4)), max(probe_in, timedelta(hours=1)))
                await uow.commit()
                return False
            payload = {"channel": channel, "channel_label": _CHANNEL_LABELS.get(channel, channel), "reason": reason,
                       "paused_at": now.isoformat(), "name": "分会工作人员"}
            rows = [
                _row(kind="channel_paused", channel="email", person_id=None, address=address,
                     key=f"channel_paused:{channel}:{now.isoformat()}:{address}", payload=payload, now=now, due_at=now)
                for address in self._staff_emails if channel != "email"
            ]
            await _insert_new(uow, rows)
            audit(uow, at=now, actor="notifier", action="outbox.channel_paused", subject=f"channel:{channel}",
                  reason=reason)
            await notify_workers(uow)
            await uow.commit()
            return True

    async def resume_channel(self, *, channel: str, actor: AnyActor) -> bool:
        """Lifts a pause (a probe got through, or staff fixed the cause); its queued rows go out at once."""
        actor = (await authorize(self._uow, self._clock, actor, Action.NOTIFICATIONS_RETRY)).actor
        now = self._clock()
        async with self._uow() as uow:
            result = await uow.session.execute(
                ChannelPause.__table__.delete().where(ChannelPause.__table__.c.channel == channel)
            )
            if not result.rowcount:
                await uow.commit()
                return False
            await uow.session.execute(
                update(OutboxMessage).where(OutboxMessage.channel == channel, OutboxMessage.status == QUEUED,
                                            OutboxMessage.due_at > now)
                .where(OutboxMessage.last_error.startswith(_PAUSED_PREFIX))
                .values(due_at=now).execution_options(synchronize_session=False)
            )
            audit(uow, at=now, actor=actor, action="outbox.channel_resumed", subject=f"channel:{channel}")
            await notify_workers(uow)
            await uow.commit()
            return True

    async def outbox(self, *, staff: AnyActor, status: str | None = None, channel: str | None = None,
                     kind: str | None = None, before: int | None = None,
                     page_size: int = OUTBOX_PAGE_SIZE) -> OutboxPage:
        """One page of the outbox under the filters, newest first (keyset on id), with the counts per
        (status, channel) and the kinds it holds: the console's notifications page."""
        await authorize(self._uow, self._clock, staff, Action.NOTIFICATIONS_VIEW)
        async with self._uow() as uow:
            session = uow.session
            counts = {(s, c): n for s, c, n in (await session.execute(
                select(OutboxMessage.status, OutboxMessage.channel, func.count())
                .group_by(OutboxMessage.status, OutboxMessage.channel))).all()}
            kinds = list((await session.scalars(
                select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind))).all())
            query = (select(OutboxMessage, Person.display_name).outerjoin(Person, Person.id == OutboxMessage.person_id)
                     .order_by(OutboxMessage.id.desc()).limit(page_size + 1))
            if status in OUTBOX_STATES:
                query = query.where(OutboxMessage.status == status)
            if channel in CHANNELS:
                query = query.where(OutboxMessage.channel == channel)
            if kind:
                query = query.where(OutboxMessage.kind == kind)
            if before is not None:
                query = query.where(OutboxMessage.id < before)
            found = (await session.execute(query)).all()
            rows = [OutboxRow(
                id=m.id, kind=m.kind, channel=m.channel, status=m.status,
                recipient=name or ("分会工作人员" if m.person_id is None else f"#{m.person_id}"),
                address=_listed_address(m.channel, m.address), attempts=m.attempts, due_at=m.due_at,
                last_attempt_at=m.last_attempt_at, sent_at=m.sent_at, reason=m.last_error,
                provider_reply=m.provider_reply,
            ) for m, name in found[:page_size]]
            next_before = rows[-1].id if len(found) > page_size else None
            return OutboxPage(rows=rows, counts=counts, kinds=kinds, next_before=next_before)

    async def get(self, *, message_id: int, staff: AnyActor) -> dict[str, Any]:
        await authorize(self._uow, self._clock, staff, Action.NOTIFICATIONS_VIEW, subject=f"outbox:{message_id}")
        async with self._uow() as uow:
            row = await uow.session.get(OutboxMessage, message_id)
            if row is None:
                raise NotFound(f"没有找到通知 #{message_id}。")
            return {
                "id": row.id, "kind": row.kind, "channel": row.channel, "status": row.status,
                "address": _mask_address(row.channel, row.address), "attempts": row.attempts,
                "due_at": row.due_at.isoformat(), "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "last_error": row.last_error, "provider_reply": row.provider_reply,
            }

    async def retry(self, *, message_ids: Iterable[int] = (), all_failed: bool = False, actor: AnyActor) -> int:
        """Queues failed, unknown-outcome or skipped rows again (staff judged it safe); returns how many."""
        actor = (await authorize(self._uow, self._clock, actor, Action.NOTIFICATIONS_RETRY)).actor
        now = self._clock()
        ids = list(message_ids)
        async with self._uow() as uow:
            retryable = OutboxMessage.status.in_([FAILED, UNKNOWN, SKIPPED])
            if all_failed:
                # "--failed" means failed only: an unknown outcome may have arrived, so it stays a choice per row.
                condition = OutboxMessage.status == FAILED
            else:
                existing = set((await uow.session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.id.in_(ids))
                )).all())
                missing = sorted(set(ids) - existing)
                if missing:
                    raise NotFound(f"没有找到通知：{'、'.join(map(str, missing))}。")
                condition = and_(OutboxMessage.id.in_(ids), retryable)
            result = await uow.session.execute(
                update(OutboxMessage).where(condition).values(
                    status=QUEUED, due_at=now, attempts=0, give_up_at=None, locked_until=None, claim_token=None,
                    attempt_started_at=None,
                ).execution_options(synchronize_session=False)
            )
            count = result.rowcount or 0
            audit(uow, at=now, actor=actor, action="outbox.retry", subject="outbox",
                  ids=ids, all_failed=all_failed, count=count)
            await notify_workers(uow)
            await uow.commit()
            return count


async def _answer_reminder_lapsed(service, uow: UnitOfWork, payload: dict[str, Any], now: datetime) -> str | None:
    appointment = await uow.session.get(Appointment, payload.get("appointment_id"))
    if appointment is None:
        return "聘任已删除"
    if appointment.status != AppointmentStatus.OFFERED:
        return f"匹配已不再等待答复（当前状态 {appointment.status}）"
    if getattr(appointment, f"{payload.get('side')}_response", None) is not None:
        return "已答复，无需提醒"
    return None


async def _publicity_end_lapsed(service, uow: UnitOfWork, payload: dict[str, Any], now: datetime) -> str | None:
    appointment = await uow.session.get(Appointment, payload.get("appointment_id"))
    if appointment is None:
        return "聘任已删除"
    if appointment.status == AppointmentStatus.CANCELLED:
        return "公示异议成立，聘任已取消"
    return None


def _about(field: str, check):
    """`check`, for rows whose payload names their object; a row that names none is not judged here (an
    SMS row without its object cannot become an SMS and fails when composed, for staff to see)."""
    async def lapsed(service, uow: UnitOfWork, payload: dict[str, Any], now: datetime) -> str | None:
        return await check(service, uow, payload, now) if payload.get(field) is not None else None
    return lapsed


_LAPSE_CHECKS = {
    "match_answer_reminder": _answer_reminder_lapsed,
    "match_proposal_waiting": _about("appointment_id", _answer_reminder_lapsed),
    "match_deadline_tomorrow": _about("appointment_id", _answer_reminder_lapsed),
    "workshop_tomorrow": _about("event_id", NotificationService._event_reminder_lapsed),
    "publicity_ended": _publicity_end_lapsed,
    "deadline_reminder": NotificationService._deadline_reminder_lapsed,
    "workshop_invitation": NotificationService._event_notice_lapsed,
    "workshop_updated": NotificationService._event_notice_lapsed,
    "workshop_reminder": NotificationService._event_reminder_lapsed,
}


_CHANNEL_LABELS = {"email": "电子邮件", "telegram": "Telegram", "sms": "短信"}
# Rows held back by a pause carry this reason (the worker writes it); a resume sends them at once.
_PAUSED_PREFIX = ZH_CN["notifier.channel_paused"].split("{")[0]


def _mask_address(channel: str, address: str | None) -> str:
    if not address:
        return ""
    if channel == "email":
        return mask_email(address)
    if channel == "sms":
        return mask_phone(address)
    return f"Telegram …{address[-4:]}"


def _row(*, kind: str, channel: str, person_id: int | None, address: str | None, key: str,
         payload: dict[str, Any], now: datetime, due_at: datetime) -> dict[str, Any]:
    return {
        "kind": kind, "channel": channel, "person_id": person_id, "address": address, "idempotency_key": key,
        "payload": payload, "status": QUEUED, "due_at": due_at, "attempts": 0, "created_at": now,
        "last_error": None,  # every row of one bulk insert has the same keys (a skipped row sets it)
    }


def _route_rows(*, kind: str, person: Person, occasion: str, payload: dict[str, Any], now: datetime,
                due_at: datetime) -> list[dict[str, Any]]:
    """The rows queue_notification would write (same key scheme), for bulk insertion."""
    payload = with_channels(person, payload)
    return [
        _row(kind=kind, channel=channel, person_id=person.id, address=address,
             key=f"{kind}:{occasion}:person-{person.id}:{channel}", payload=payload, now=now, due_at=due_at)
        for channel, address in channels_for(person)
    ]


async def _honour_opt_outs(uow: UnitOfWork, kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, those to people who unsubscribed from `kind` written as skipped (core.services.preferences)."""
    off = await opted_out_people(uow, kind, (r["person_id"] for r in rows if r["person_id"] is not None))
    return [skipped(r) if r["person_id"] in off else r for r in rows]


# An SMS template variable is short (the provider limits each); a longer title is cut.
_SMS_TITLE_CHARS = 20


async def _sms_rows(uow: UnitOfWork, *, kind: str, attendees, event: Event, label: str, now: datetime,
                    due_at: datetime) -> list[dict[str, Any]]:
    """SMS rows (core.services.common.queue_sms, same key scheme) for the attendees with a verified mobile."""
    ids = [person.id for _, person in attendees]
    mobiles: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for person_id, mobile in (await uow.session.execute(
            select(PersonIdentity.person_id, PersonIdentity.identifier).where(
                PersonIdentity.person_id.in_(ids[start:start + 500]), PersonIdentity.channel == "mobile",
                PersonIdentity.verified_at.is_not(None),
            ).order_by(PersonIdentity.verified_at, PersonIdentity.id)
        )).all():
            mobiles[person_id] = mobile  # the latest verified wins
    title = event.title if len(event.title) <= _SMS_TITLE_CHARS else event.title[:_SMS_TITLE_CHARS - 1] + "…"
    occasion = f"event-{event.id}-{event.starts_at.strftime('%Y%m%dT%H%MZ')}-{label}"
    return [
        _row(kind=kind, channel="sms", person_id=person.id, address=mobiles[person.id],
             key=f"{kind}:{occasion}:person-{person.id}:sms", now=now, due_at=due_at,
             payload=with_channels(person, {
                 "event_id": event.id, "invitation_id": invitation.id, "title": title,
                 "starts_at": event.starts_at.isoformat(), "sequence": event.sequence, "lead": label,
             }))
        for invitation, person in attendees if person.id in mobiles
    ]


async def _existing_keys(uow: UnitOfWork, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update((await uow.session.scalars(
            select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(chunk))
        )).all())
    return found


async def _insert_new(uow: UnitOfWork, rows: list[dict[str, Any]]) -> int:
    """Inserts the rows whose idempotency key is new. Another scheduler inserting the same key at
    the same moment is not an error: ON CONFLICT DO NOTHING leaves exactly one."""
    if not rows:
        return 0
    existing = await _existing_keys(uow, (r["idempotency_key"] for r in rows))
    fresh = [r for r in rows if r["idempotency_key"] not in existing]
    if not fresh:
        return 0
    dialect = uow.session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = OutboxMessage.__table__
    for start in range(0, len(fresh), 500):
        stmt = insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
        await uow.session.execute(stmt, fresh[start:start + 500])
    return len(fresh)
