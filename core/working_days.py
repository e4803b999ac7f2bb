"""Working days as China counts them: statutory holidays and 调休 make-up working days.

The official calendar comes from the `chinese-calendar` package (updated each year when the
State Council publishes the next year's arrangement). `HOLIDAYS` from the settings are days
off on top of it (a local closure, or a holiday published after the package). For a year the
package does not cover yet, Mondays to Fridays minus `HOLIDAYS` are used, and that year is
reported so staff can be told once.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

import chinese_calendar

__all__ = ["ChinaWorkingDays"]

log = logging.getLogger(__name__)


class ChinaWorkingDays:
    def __init__(self, *, holidays: Iterable[date] = ()) -> None:
        self._closed = frozenset(holidays)
        self.uncovered_years: set[int] = set()

    def __call__(self, day: date) -> bool:
        if day in self._closed:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self.uncovered_years:
                self.uncovered_years.add(day.year)
                log.warning("China's holiday calendar does not cover %s yet: counting weekdays minus HOLIDAYS", day.year)
            return day.weekday() < 5

    def covers(self, year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True
