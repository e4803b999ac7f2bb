"""How the plan writes its dates and times for people, on every channel (e-mail, chat, web, console)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["PLAN_TIMEZONE", "format_datetime_cn"]

# Every time of the plan is Beijing time (notice: all dates Asia/Shanghai).
PLAN_TIMEZONE = ZoneInfo("Asia/Shanghai")


def format_datetime_cn(value: datetime | date | str) -> str:
    """2025年8月15日 18:00（北京时间）; naive datetimes are taken as already in Beijing time."""
    if isinstance(value, str):
        # Outbox payloads are JSON: dates travel as ISO strings.
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(PLAN_TIMEZONE)
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}（北京时间）"
    return f"{value.year}年{value.month}月{value.day}日"
