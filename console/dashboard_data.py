"""What the dashboard shows: the figures come from core (core.services.figures, the same the bot's /stats and
the staff digest read); this module only lays them out (chart geometry, bar widths, labels)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain import ApplicationStatus, FormKind
from core.domain.permissions import AnyActor
from core.domain.status import STATUS_LABELS
from core.services.figures import FailedNotification, FiguresService, WaitingReview
from core.services.views import BatchView
from core.texts import text

__all__ = ["Dashboard", "load_dashboard", "DayBar", "CourseBar", "ProvinceBar", "WaitingReview", "FailedNotification"]

CHART_WIDTH = 720
CHART_HEIGHT = 160


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


async def load_dashboard(figures: FiguresService, *, staff: AnyActor, zone: ZoneInfo, now: datetime,
                         batch_id: int | None = None) -> Dashboard:
    read = await figures.dashboard(staff=staff, batch_id=batch_id, now=now)
    today = now.astimezone(zone).date()
    counts: dict[str, list[tuple[str, str, int]]] = {FormKind.EXPERT.value: [], FormKind.UNIVERSITY.value: []}
    totals = {FormKind.EXPERT.value: 0, FormKind.UNIVERSITY.value: 0}
    numbers = read.figures
    board = Dashboard(batch=numbers.batch if numbers else None, batches=list(read.batches), today=today,
                      days_left=None, counts=counts, totals=totals)
    board.failed_count, board.unknown_count = read.outbox.failed, read.outbox.unknown
    board.failures = [FailedNotification(f.id, f.kind, f.channel, f.status, f.reason or text("figures.no_reason"), f.at)
                      for f in read.failures]
    if numbers is None:
        return board
    batch = numbers.batch
    deadline = batch.registration_closes_at.astimezone(zone).date()
    board.days_left = (deadline - today).days

    for form in counts:
        for status in ApplicationStatus:
            count = numbers.by_status[form][status.value]
            counts[form].append((status.value, STATUS_LABELS[status], count))
        totals[form] = numbers.total(form)

    # Submissions per day, from the opening of registration to its deadline (or today, if later).
    per_day = dict(read.submissions_per_day)
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
    pool, demand = numbers.pool_by_course, numbers.demand_by_course
    top = max([*pool.values(), *demand.values(), 1])
    board.courses = [CourseBar(course, pool[course], demand[course], round(100 * pool[course] / top, 1),
                               round(100 * demand[course] / top, 1)) for course in pool]
    top_province = max([count for _, count in numbers.pool_by_province] or [1])
    board.provinces = [ProvinceBar(province or text("figures.province_unknown"), count,
                                   round(100 * count / top_province, 1))
                       for province, count in numbers.pool_by_province]

    board.waiting_count = numbers.waiting
    board.waiting = list(read.waiting_oldest)
    board.waiting_oldest_days = board.waiting[0].age_days if board.waiting else None
    return board
