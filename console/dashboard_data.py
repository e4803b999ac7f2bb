"""What the dashboard shows, in a fixed number of grouped queries whatever the size of the batch."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, select

from core.db.models import Application, Batch, CourseDemand, ExpertCourse, OutboxMessage
from core.db.uow import UnitOfWorkFactory
from core.domain import CORE_COURSES, ApplicationStatus, FormKind
from core.domain.status import STATUS_LABELS
from core.services.common import batch_view
from core.services.notifications import FAILED, UNKNOWN
from core.services.views import BatchView

__all__ = ["Dashboard", "load_dashboard", "DayBar", "CourseBar", "ProvinceBar"]

CHART_WIDTH = 720
CHART_HEIGHT = 160
PROVINCES_SHOWN = 12
WAITING_SHOWN = 8
FAILURES_SHOWN = 6


@dataclass(frozen=True)
class DayBar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class CourseBar:
    course: str
    pool: int
    demand: int
    pool_percent: float
    demand_percent: float


@dataclass(frozen=True)
class ProvinceBar:
    province: str
    count: int
    percent: float


@dataclass(frozen=True)
class WaitingReview:
    application_id: int
    form: str
    submitted_at: datetime
    age_days: int


@dataclass(frozen=True)
class FailedNotification:
    id: int
    kind: str
    channel: str
    status: str
    reason: str
    at: datetime | None


@dataclass
class Dashboard:
    batch: BatchView | None
    batches: list[BatchView]
    today: date
    days_left: int | None
    counts: dict[str, list[tuple[str, str, int]]]  # form → [(status, label, count)]
    totals: dict[str, int]
    days: list[DayBar] = field(default_factory=list)
    day_max: int = 0
    deadline_x: float | None = None
    chart_width: int = CHART_WIDTH
    chart_height: int = CHART_HEIGHT
    chart_ticks: list[tuple[float, str]] = field(default_factory=list)
    courses: list[CourseBar] = field(default_factory=list)
    provinces: list[ProvinceBar] = field(default_factory=list)
    waiting_count: int = 0
    waiting_oldest_days: int | None = None
    waiting: list[WaitingReview] = field(default_factory=list)
    failed_count: int = 0
    unknown_count: int = 0
    failures: list[FailedNotification] = field(default_factory=list)


def _local_day(dialect: str, column, zone: ZoneInfo, now: datetime):
    """The calendar day (in the plan's zone) of a UTC timestamp column, computed by the database."""
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    if dialect == "postgresql":
        return cast(func.timezone(str(zone), column), Date)
    return func.date(column, f"{hours:+d} hours")


async def load_dashboard(uow_factory: UnitOfWorkFactory, *, zone: ZoneInfo, now: datetime,
                         batch_id: int | None = None) -> Dashboard:
    async with uow_factory() as uow:
        session = uow.session
        dialect = session.bind.dialect.name
        batches = [batch_view(b) for b in (await session.scalars(
            select(Batch).order_by(Batch.registration_opens_at.desc(), Batch.id.desc()))).all()]
        batch = None
        if batch_id is not None:
            batch = next((b for b in batches if b.id == batch_id), None)
        if batch is None:
            current = await uow.batches.current(now)
            batch = batch_view(current) if current else (batches[0] if batches else None)
        today = now.astimezone(zone).date()
        counts: dict[str, list[tuple[str, str, int]]] = {FormKind.EXPERT.value: [], FormKind.UNIVERSITY.value: []}
        totals = {FormKind.EXPERT.value: 0, FormKind.UNIVERSITY.value: 0}
        board = Dashboard(batch=batch, batches=batches, today=today, days_left=None, counts=counts, totals=totals)
        if batch is None:
            return board
        deadline = batch.registration_closes_at.astimezone(zone).date()
        board.days_left = (deadline - today).days

        in_batch = Application.batch_id == batch.id
        grouped = {(form, status): count for form, status, count in (await session.execute(
            select(Application.form, Application.status, func.count()).where(in_batch)
            .group_by(Application.form, Application.status))).all()}
        for form in counts:
            for status in ApplicationStatus:
                count = grouped.get((form, status.value), 0)
                counts[form].append((status.value, STATUS_LABELS[status], count))
                totals[form] += count

        # Submissions per day, from the opening of registration to its deadline (or today, if later).
        day = _local_day(dialect, Application.submitted_at, zone, now).label("day")
        per_day = {}
        for value, count in (await session.execute(
                select(day, func.count()).where(in_batch, Application.submitted_at.is_not(None)).group_by(day))).all():
            per_day[value if isinstance(value, date) else date.fromisoformat(str(value))] = count
        first = batch.registration_opens_at.astimezone(zone).date()
        last = max(deadline, min(today, deadline + timedelta(days=30)), *(per_day or [deadline]))
        first = min(first, *(per_day or [first]))
        span = (last - first).days + 1
        slot = CHART_WIDTH / span
        board.day_max = max(per_day.values(), default=0)
        scale = (CHART_HEIGHT - 20) / board.day_max if board.day_max else 0
        for offset in range(span):
            current = first + timedelta(days=offset)
            count = per_day.get(current, 0)
            height = count * scale
            board.days.append(DayBar(current, count, round(offset * slot + slot * 0.1, 2), round(CHART_HEIGHT - height, 2),
                                     round(max(slot * 0.8, 0.5), 2), round(height, 2)))
        board.deadline_x = round(((deadline - first).days + 1) * slot, 2)
        tick_every = max(1, span // 6)
        # Labels are ~40 units wide: none may run past the right edge.
        board.chart_ticks = [(round(i * slot, 2), (first + timedelta(days=i)).strftime("%m-%d"))
                             for i in range(0, span, tick_every) if i * slot <= CHART_WIDTH - 40]

        # The pool per course against what the approved intents ask for.
        approved_expert = (Application.form == FormKind.EXPERT.value) & (Application.status == ApplicationStatus.APPROVED.value)
        pool = dict((await session.execute(
            select(ExpertCourse.course, func.count()).join(Application, Application.id == ExpertCourse.application_id)
            .where(in_batch, approved_expert).group_by(ExpertCourse.course))).all())
        demand = dict((await session.execute(
            select(CourseDemand.course, func.coalesce(func.sum(CourseDemand.experts_needed), 0))
            .join(Application, Application.id == CourseDemand.application_id)
            .where(in_batch, Application.form == FormKind.UNIVERSITY.value,
                   Application.status == ApplicationStatus.APPROVED.value)
            .group_by(CourseDemand.course))).all())
        top = max([*pool.values(), *demand.values(), 1])
        board.courses = [CourseBar(course.value, pool.get(course.value, 0), int(demand.get(course.value, 0)),
                                   round(100 * pool.get(course.value, 0) / top, 1),
                                   round(100 * int(demand.get(course.value, 0)) / top, 1)) for course in CORE_COURSES]
        provinces = (await session.execute(
            select(Application.province, func.count()).where(in_batch, approved_expert)
            .group_by(Application.province).order_by(func.count().desc(), Application.province)
            .limit(PROVINCES_SHOWN))).all()
        top_province = max([count for _, count in provinces] or [1])
        board.provinces = [ProvinceBar(province or "未填写", count, round(100 * count / top_province, 1))
                           for province, count in provinces]

        waiting_filter = (in_batch, Application.status == ApplicationStatus.SUBMITTED.value)
        board.waiting_count = await session.scalar(select(func.count()).select_from(Application).where(*waiting_filter)) or 0
        oldest = (await session.execute(
            select(Application.id, Application.form, Application.submitted_at).where(*waiting_filter)
            .order_by(Application.submitted_at, Application.id).limit(WAITING_SHOWN))).all()
        board.waiting = [WaitingReview(app_id, form, submitted, (now - submitted).days) for app_id, form, submitted in oldest]
        board.waiting_oldest_days = board.waiting[0].age_days if board.waiting else None

        outcome = dict((await session.execute(
            select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_([FAILED, UNKNOWN]))
            .group_by(OutboxMessage.status))).all())
        board.failed_count, board.unknown_count = outcome.get(FAILED, 0), outcome.get(UNKNOWN, 0)
        failures = (await session.execute(
            select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.status,
                   OutboxMessage.last_error, OutboxMessage.last_attempt_at)
            .where(OutboxMessage.status.in_([FAILED, UNKNOWN]))
            .order_by(OutboxMessage.id.desc()).limit(FAILURES_SHOWN))).all()
        board.failures = [FailedNotification(i, kind, channel, status, reason or "（未记录原因）", at)
                          for i, kind, channel, status, reason, at in failures]
        return board
