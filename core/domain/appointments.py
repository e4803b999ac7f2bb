"""The life of a proposed expert–university pair after staff confirm it (notice 三(二)2 and 三(三)).

offered → accepted (both sides said yes) → publicity (staff start it: 公示 is the branch's decision, notice
三(二)2 "按规定公示后") → agreed (agreement signed after publicity) → filed (备案)
offered → declined (either side); publicity → cancelled (an objection upheld)

An accepted pair has no way out but publicity: there is no staff verb to drop a pair before it is made
public (nor while it is offered), and an objection raised during publicity is how a pair is stopped.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from enum import StrEnum

from core.domain.errors import TransitionError

__all__ = [
    "AppointmentStatus",
    "APPOINTMENT_LABELS",
    "ACTIVE_APPOINTMENTS",
    "check_appointment_transition",
    "add_working_days",
    "first_working_day",
    "weekdays_except",
    "WorkingDayTest",
    "MAX_AGREEMENT_YEARS",
    "DEFAULT_MAX_UNIVERSITIES",
]

# "同一专家受聘高校一般不超过2所": a hard cap unless staff lift it for one expert with a reason.
DEFAULT_MAX_UNIVERSITIES = 2
# 《普通本科高校产业兼职教师管理办法》(2025): an appointment runs at most 5 years.
MAX_AGREEMENT_YEARS = 5


class AppointmentStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PUBLICITY = "publicity"
    CANCELLED = "cancelled"
    AGREED = "agreed"
    FILED = "filed"


_A = AppointmentStatus

APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    _A.OFFERED: frozenset({_A.ACCEPTED, _A.DECLINED}),
    _A.ACCEPTED: frozenset({_A.PUBLICITY}),
    _A.PUBLICITY: frozenset({_A.AGREED, _A.CANCELLED}),
    _A.AGREED: frozenset({_A.FILED}),
    _A.DECLINED: frozenset(),
    _A.CANCELLED: frozenset(),
    _A.FILED: frozenset(),
}

APPOINTMENT_LABELS: dict[AppointmentStatus, str] = {
    _A.OFFERED: "待双方确认",
    _A.ACCEPTED: "双方已确认，待公示",
    _A.DECLINED: "已谢绝",
    _A.PUBLICITY: "公示中",
    _A.CANCELLED: "公示异议成立，已取消",
    _A.AGREED: "已签订协议",
    _A.FILED: "已备案",
}

# Pairs that hold a place in an expert's cap of universities.
ACTIVE_APPOINTMENTS = frozenset({_A.OFFERED, _A.ACCEPTED, _A.PUBLICITY, _A.AGREED, _A.FILED})


def check_appointment_transition(current: AppointmentStatus, target: AppointmentStatus) -> None:
    if target in APPOINTMENT_TRANSITIONS[current]:
        return
    allowed = "、".join(APPOINTMENT_LABELS[s] for s in sorted(APPOINTMENT_TRANSITIONS[current])) or "无（已结束）"
    raise TransitionError(
        f"聘任状态不能从「{APPOINTMENT_LABELS[current]}」变为「{APPOINTMENT_LABELS[target]}」；当前只能变为：{allowed}。"
    )


WorkingDayTest = Callable[[date], bool]


def weekdays_except(holidays: Iterable[date] = ()) -> WorkingDayTest:
    """Mondays to Fridays that are not in `holidays`: the fallback when no official calendar is known."""
    closed = frozenset(holidays)
    return lambda day: day.weekday() < 5 and day not in closed


def _as_test(working: WorkingDayTest | Iterable[date]) -> WorkingDayTest:
    return working if callable(working) else weekdays_except(working)


def add_working_days(start: date, days: int, working: WorkingDayTest | Iterable[date] = ()) -> date:
    """The last day of a period of `days` working days beginning on `start` (or the next working day).

    `working` tells which days are working days (China's calendar with its 调休 make-up days, see
    core.working_days); a plain collection of dates means weekdays except those dates.
    """
    is_working = _as_test(working)
    day = start
    while not is_working(day):
        day += timedelta(days=1)
    counted = 1
    while counted < days:
        day += timedelta(days=1)
        if is_working(day):
            counted += 1
    return day


def first_working_day(start: date, working: WorkingDayTest | Iterable[date] = ()) -> date:
    return add_working_days(start, 1, working)
