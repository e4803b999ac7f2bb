"""One read side for the figures staff see: the console's dashboard, the bot's /stats, the staff digest.

Every figure is a grouped SQL query: its cost does not grow with the number of application rows read into
Python (no application row, and no answers, is loaded to count anything). Lists that come with the figures
(the oldest waiting reviews, the latest failed notices) are bounded by a LIMIT.

What a figure counts is decided here and only here:

- the pool per course is the approved experts of the batch per course as indexed at their last submission
  (`expert_courses`, and with it `applications.courses_mask`, which is what is counted), not the courses
  listed in the answers: answers change while an application is being
  edited (needs_info), the index only when it is submitted again, and only approved experts are in the pool;
- the demand per course is the expert places asked for by the batch's approved intents (`course_demands`);
- the review queue is every submitted application, of every batch (what /pending pages through);
- notification problems are the outbox rows that failed or whose outcome is unknown.

The functions taking a UnitOfWork read inside the caller's transaction (the digest writes its payload from
the same snapshot); FiguresService opens its own.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, literal_column, select, union_all

from core.db.models import Application, Batch, CourseDemand, OutboxMessage
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import CORE_COURSES, ApplicationStatus, FormKind
from core.domain.courses import COURSE_BITS
from core.domain.limits import id_in_range
from core.domain.permissions import Action, AnyActor
from core.services.common import Clock, batch_view, utc_now
from core.services.permissions import authorize
from core.services.views import BatchView

__all__ = [
    "ACTIVE_STATUSES",
    "BatchFigures",
    "DashboardFigures",
    "FailedNotification",
    "FiguresService",
    "OutboxFigures",
    "QueueFigures",
    "WaitingReview",
    "batch_figures",
    "choose_batch",
    "latest_failures",
    "needs_info_count",
    "oldest_waiting",
    "outbox_figures",
    "queue_figures",
    "status_counts",
    "submissions_per_day",
    "submitted_count",
]

# Applications still in play (not drafts, not decided against or withdrawn): where applicants come from.
ACTIVE_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.NEEDS_INFO, ApplicationStatus.APPROVED)
# Outbox rows staff must look at (the same strings as core.services.notifications.FAILED / UNKNOWN).
_FAILED, _UNKNOWN = "failed", "unknown"
PROVINCES_SHOWN = 12
WAITING_SHOWN = 8
FAILURES_SHOWN = 6

Count = tuple[str | None, int]  # (province or None when not given, count)


@dataclass(frozen=True)
class BatchFigures:
    """The figures of one batch."""

    batch: BatchView
    # form -> status -> count, every form and every status (zeros included), in ApplicationStatus order.
    by_status: Mapping[str, Mapping[str, int]]
    # Approved experts per core course (expert_courses, as courses_mask), every core course, in CORE_COURSES order.
    pool_by_course: Mapping[str, int]
    # Expert places asked for by approved intents per core course, every core course, in CORE_COURSES order.
    demand_by_course: Mapping[str, int]
    # Approved experts per province, most first (then by name), at most `provinces_shown`.
    pool_by_province: tuple[Count, ...]
    # form -> (province, count) over ACTIVE_STATUSES applications, most first, at most `provinces_shown`.
    applicants_by_province: Mapping[str, tuple[Count, ...]]

    def total(self, form: str) -> int:
        return sum(self.by_status[form].values())

    def count(self, status: str, form: str | None = None) -> int:
        forms = [form] if form is not None else list(self.by_status)
        return sum(self.by_status[f].get(status, 0) for f in forms)

    @property
    def waiting(self) -> int:
        """Submitted and not yet reviewed, both forms, this batch."""
        return self.count(ApplicationStatus.SUBMITTED.value)


@dataclass(frozen=True)
class QueueFigures:
    """The review queue across every batch."""

    by_form: Mapping[str, int]  # form -> submitted applications

    @property
    def waiting(self) -> int:
        return sum(self.by_form.values())


@dataclass(frozen=True)
class OutboxFigures:
    failed: int
    unknown: int

    @property
    def problems(self) -> int:
        return self.failed + self.unknown


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
    reason: str | None
    at: datetime | None


@dataclass(frozen=True)
class DashboardFigures:
    batches: tuple[BatchView, ...]  # newest first
    figures: BatchFigures | None  # None when there is no batch
    submissions_per_day: Mapping[date, int]  # local calendar day -> submissions that day (days with any)
    waiting_oldest: tuple[WaitingReview, ...]  # the batch's oldest submitted, at most WAITING_SHOWN
    outbox: OutboxFigures
    failures: tuple[FailedNotification, ...]  # the latest failed or unknown rows, at most FAILURES_SHOWN


# ---------------------------------------------------------------------------------------------- queries


async def choose_batch(uow: UnitOfWork, now: datetime, batch_id: int | None = None) -> Batch | None:
    """The batch asked for; else the current one (open, or next to open); else the latest."""
    if batch_id is not None and id_in_range(batch_id):
        batch = await uow.session.get(Batch, batch_id)
        if batch is not None:
            return batch
    current = await uow.batches.current(now)
    if current is not None:
        return current
    return await uow.session.scalar(
        select(Batch).order_by(Batch.registration_opens_at.desc(), Batch.id.desc()).limit(1))


async def status_counts(uow: UnitOfWork, batch_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    """batch -> form -> status -> count for these batches, every form and status (zeros included)."""
    wanted = sorted(set(batch_ids))
    counts = {b: {form.value: {status.value: 0 for status in ApplicationStatus} for form in FormKind} for b in wanted}
    if not wanted:
        return counts
    rows = await uow.session.execute(
        select(Application.batch_id, Application.form, Application.status, func.count())
        .where(Application.batch_id.in_(wanted))
        .group_by(Application.batch_id, Application.form, Application.status))
    for batch_id, form, status, count in rows.all():
        counts[batch_id].setdefault(form, {}).setdefault(status, 0)
        counts[batch_id][form][status] += count
    return counts


def _top(counts: Iterable[tuple[str | None, int]], limit: int) -> tuple[Count, ...]:
    merged: Counter[str | None] = Counter()
    for province, count in counts:
        merged[province or None] += count  # "" and NULL are both "not given"
    return tuple(sorted(merged.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))[:limit])


async def batch_figures(uow: UnitOfWork, batch: Batch, *, provinces_shown: int = PROVINCES_SHOWN) -> BatchFigures:
    """The figures of one batch, in two grouped queries whatever its size.

    The counts per status, the pool per province and per course and the applicants per province are one query
    grouped by (form, status, province, courses_mask), added up here: each is a sum of its groups. At 100,000
    applications that is one index-only scan of ix_applications_figures instead of four passes over the batch
    (the pool per course was a join of 60,000 approved experts to their 95,000 courses)."""
    groups = await _status_groups(uow, batch.id)
    return _assemble(batch_view(batch), groups, await _demand_by_course(uow, batch.id), provinces_shown=provinces_shown)


async def _status_groups(uow: UnitOfWork, batch_id: int) -> list[tuple[str, str, str | None, int, int]]:
    """(form, status, province, courses_mask, count) of the batch: one index-only scan of ix_applications_figures."""
    return [tuple(row) for row in (await uow.session.execute(
        select(Application.form, Application.status, Application.province, Application.courses_mask, func.count())
        .where(Application.batch_id == batch_id)
        .group_by(Application.form, Application.status, Application.province, Application.courses_mask))).all()]


async def _demand_by_course(uow: UnitOfWork, batch_id: int) -> dict[str, int]:
    return dict((await uow.session.execute(
        select(CourseDemand.course, func.coalesce(func.sum(CourseDemand.experts_needed), 0))
        .join(Application, Application.id == CourseDemand.application_id)
        .where(Application.batch_id == batch_id, Application.form == FormKind.UNIVERSITY.value,
               Application.status == ApplicationStatus.APPROVED.value)
        .group_by(CourseDemand.course))).all())


def _assemble(batch: BatchView, groups: Iterable[tuple[str, str, str | None, int, int]], demand: Mapping[str, int], *,
              provinces_shown: int = PROVINCES_SHOWN) -> BatchFigures:
    by_status = {form.value: {status.value: 0 for status in ApplicationStatus} for form in FormKind}
    pool_provinces: list[tuple[str | None, int]] = []
    pool: Counter[str] = Counter()
    applicants: dict[str, list[tuple[str | None, int]]] = {form.value: [] for form in FormKind}
    active = {s.value for s in ACTIVE_STATUSES}
    for form, status, province, mask, count in groups:
        statuses = by_status.setdefault(form, {})
        statuses[status] = statuses.get(status, 0) + count
        if status in active:
            applicants.setdefault(form, []).append((province, count))
        if form == FormKind.EXPERT.value and status == ApplicationStatus.APPROVED.value:
            pool_provinces.append((province, count))
            for course, bit in COURSE_BITS.items():  # the pool per course: the courses indexed at submission
                if (mask or 0) & bit:
                    pool[course] += count
    return BatchFigures(
        batch=batch,
        by_status=by_status,
        pool_by_course={course.value: int(pool.get(course.value, 0)) for course in CORE_COURSES},
        demand_by_course={course.value: int(demand.get(course.value, 0)) for course in CORE_COURSES},
        pool_by_province=_top(pool_provinces, provinces_shown),
        applicants_by_province={form: _top(rows, provinces_shown) for form, rows in applicants.items()},
    )


async def queue_figures(uow: UnitOfWork) -> QueueFigures:
    """Submitted applications waiting for review, every batch."""
    by_form = {form.value: 0 for form in FormKind}
    rows = await uow.session.execute(
        select(Application.form, func.count()).where(Application.status == ApplicationStatus.SUBMITTED.value)
        .group_by(Application.form))
    for form, count in rows.all():
        by_form[form] = by_form.get(form, 0) + count
    return QueueFigures(by_form=by_form)


async def outbox_figures(uow: UnitOfWork) -> OutboxFigures:
    outcome = dict((await uow.session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_([_FAILED, _UNKNOWN]))
        .group_by(OutboxMessage.status))).all())
    return OutboxFigures(failed=outcome.get(_FAILED, 0), unknown=outcome.get(_UNKNOWN, 0))


async def submitted_count(uow: UnitOfWork, *, since: datetime, until: datetime) -> int:
    """Applications submitted in (since, until] and not back to draft, every batch (the digest's "new")."""
    return await uow.session.scalar(
        select(func.count()).select_from(Application)
        .where(Application.submitted_at > since, Application.submitted_at <= until,
               Application.status != ApplicationStatus.DRAFT.value)) or 0


async def needs_info_count(uow: UnitOfWork, *, asked_before: datetime) -> int:
    """Applications sent back for more information before this moment and not resubmitted, every batch."""
    return await uow.session.scalar(
        select(func.count()).select_from(Application)
        .where(Application.status == ApplicationStatus.NEEDS_INFO.value, Application.reviewed_at < asked_before)) or 0


def _local_day(dialect: str, column, zone: ZoneInfo, now: datetime):
    """The calendar day (in the plan's zone) of a UTC timestamp column, computed by the database."""
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    if dialect == "postgresql":
        # The zone's offset now, fixed (Asia/Shanghai keeps no summer time): looking the zone up for each of a
        # batch's 100,000 rows made this count twice as slow as the index scan under it.
        minutes = int(offset.total_seconds() // 60)
        return cast(func.timezone(literal_column(f"INTERVAL '{minutes} minutes'"), column), Date)
    return func.date(column, f"{hours:+d} hours")


async def submissions_per_day(uow: UnitOfWork, batch_id: int, *, zone: ZoneInfo, now: datetime) -> dict[date, int]:
    session = uow.session
    day = _local_day(session.bind.dialect.name, Application.submitted_at, zone, now).label("day")
    per_day: dict[date, int] = {}
    for value, count in (await session.execute(
            select(day, func.count()).where(Application.batch_id == batch_id, Application.submitted_at.is_not(None))
            .group_by(day))).all():
        per_day[value if isinstance(value, date) else date.fromisoformat(str(value))] = count
    return per_day


async def oldest_waiting(uow: UnitOfWork, batch_id: int, *, now: datetime, limit: int = WAITING_SHOWN) -> tuple[WaitingReview, ...]:
    # Per form, the oldest first along ix_applications_queue (form, status, submitted_at, id), stopped after
    # `limit`: with the form left open the scan went through every submitted entry of the batch (40,000).
    per_form = [
        select(Application.id, Application.form, Application.submitted_at)
        .where(Application.form == form.value, Application.status == ApplicationStatus.SUBMITTED.value,
               Application.batch_id == batch_id)
        .order_by(Application.submitted_at, Application.id).limit(limit).subquery()
        for form in FormKind]
    merged = union_all(*(select(q.c.id, q.c.form, q.c.submitted_at) for q in per_form)).subquery()
    rows = (await uow.session.execute(
        select(merged.c.id, merged.c.form, merged.c.submitted_at)
        .order_by(merged.c.submitted_at, merged.c.id).limit(limit))).all()
    return tuple(WaitingReview(app_id, form, submitted, (now - submitted).days) for app_id, form, submitted in rows)


async def latest_failures(uow: UnitOfWork, *, limit: int = FAILURES_SHOWN) -> tuple[FailedNotification, ...]:
    rows = (await uow.session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.status,
               OutboxMessage.last_error, OutboxMessage.last_attempt_at)
        .where(OutboxMessage.status.in_([_FAILED, _UNKNOWN]))
        .order_by(OutboxMessage.id.desc()).limit(limit))).all()
    return tuple(FailedNotification(*row) for row in rows)


# ---------------------------------------------------------------------------------------------- service


class FiguresService:
    def __init__(self, *, uow: UnitOfWorkFactory, zone: ZoneInfo = ZoneInfo("Asia/Shanghai"),
                 clock: Clock = utc_now) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock

    # Staff reads (the dashboard, the bot's /stats and /pending count): each takes the acting `staff` and checks
    # Action.REVIEW_READ first. The staff digest (a job) reads the module's functions, not these.

    async def batch(self, *, staff: AnyActor, batch_id: int | None = None) -> BatchFigures | None:
        """The figures of the batch asked for, else of the batch the dashboard opens on; None with no batch."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        async with self._uow() as uow:
            batch = await choose_batch(uow, self._clock(), batch_id)
            return await batch_figures(uow, batch) if batch is not None else None

    async def queue(self, *, staff: AnyActor) -> QueueFigures:
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        async with self._uow() as uow:
            return await queue_figures(uow)

    async def outbox(self, *, staff: AnyActor) -> OutboxFigures:
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        async with self._uow() as uow:
            return await outbox_figures(uow)

    async def dashboard(self, *, staff: AnyActor, batch_id: int | None = None,
                        now: datetime | None = None) -> DashboardFigures:
        """Everything the console's dashboard shows, in a fixed number of queries whatever the size of the batch.

        The two that read the whole batch (the counts by status, province and courses, which give the pool per
        course; the submissions per day: each tens of milliseconds at 100,000 applications) run at the same
        time, each in its own unit of work: the page waits for the longer, not for their sum. They may then see the batch a
        moment apart (a review committed in between): a glance at the batch, not a report (batch_figures reads
        its figures in one transaction for the digest and /stats)."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        now = now or self._clock()
        async with self._uow() as uow:
            batches = tuple(batch_view(b) for b in (await uow.session.scalars(
                select(Batch).order_by(Batch.registration_opens_at.desc(), Batch.id.desc()))).all())
            batch = await choose_batch(uow, now, batch_id)
            if batch is None:
                return DashboardFigures(batches, None, {}, (), await outbox_figures(uow), await latest_failures(uow))
            chosen, chosen_id = batch_view(batch), batch.id

        async def read(work):
            async with self._uow() as uow:
                return await work(uow)

        async def the_rest(uow):
            return (await _status_groups(uow, chosen_id), await _demand_by_course(uow, chosen_id),
                    await outbox_figures(uow), await latest_failures(uow), await oldest_waiting(uow, chosen_id, now=now))

        (groups, demand, outbox, failures, waiting), per_day = await asyncio.gather(
            read(the_rest), read(lambda uow: submissions_per_day(uow, chosen_id, zone=self._zone, now=now)))
        return DashboardFigures(
            batches=batches,
            figures=_assemble(chosen, groups, demand),
            submissions_per_day=per_day,
            waiting_oldest=waiting,
            outbox=outbox,
            failures=failures,
        )
