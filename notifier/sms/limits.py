"""Per-number SMS limits (e.g. at most 1 a minute and 5 an hour to one mobile).

Providers enforce similar limits themselves and answer isv.BUSINESS_LIMIT_CONTROL beyond them; we
stay under ours so that a burst (a code asked for twice, a reminder at the same minute) waits in the
queue instead of being refused. The sends counted are the outbox rows to that number with an
attempt since the window began (all worker processes), plus those this process has reserved and not
yet put on record (rows of the same batch).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["PerNumberLimits"]


@dataclass
class PerNumberLimits:
    # (sends, window) pairs; every one must have room.
    limits: tuple[tuple[int, timedelta], ...] = ((1, timedelta(minutes=1)), (5, timedelta(hours=1)))
    # phone -> row id -> when this process let that row go (not yet necessarily on record)
    _reserved: dict[str, dict[int, datetime]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, per_minute: int | None, per_hour: int | None) -> "PerNumberLimits":
        limits = []
        if per_minute:
            limits.append((per_minute, timedelta(minutes=1)))
        if per_hour:
            limits.append((per_hour, timedelta(hours=1)))
        return cls(tuple(limits))

    @property
    def longest(self) -> timedelta:
        return max((window for _, window in self.limits), default=timedelta(0))

    def wait(self, phone: str, *, now: datetime, on_record: Mapping[int, datetime]) -> timedelta:
        """How long until one more send to `phone` fits every limit (zero: now)."""
        self._forget(now)
        sends = dict(self._reserved.get(phone, {}))
        sends.update(on_record)
        return _wait(sorted(sends.values()), self.limits, now)

    def reserve(self, phone: str, row_id: int, *, now: datetime) -> None:
        self._reserved.setdefault(phone, {})[row_id] = now

    def _forget(self, now: datetime) -> None:
        horizon = now - self.longest
        for phone in list(self._reserved):
            kept = {i: at for i, at in self._reserved[phone].items() if at > horizon}
            if kept:
                self._reserved[phone] = kept
            else:
                del self._reserved[phone]


def _wait(times: list[datetime], limits: Iterable[tuple[int, timedelta]], now: datetime) -> timedelta:
    wait = timedelta(0)
    for count, window in limits:
        inside = [t for t in times if t > now - window]
        if len(inside) >= count:
            # Room comes when the oldest send that keeps the window full leaves it.
            oldest_blocking = inside[len(inside) - count]
            wait = max(wait, oldest_blocking + window - now)
    return wait
