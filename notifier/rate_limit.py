"""Send-rate quotas (an SMTP relay's per-minute and per-day limits, Telegram's per-second one).

Counts sends in a sliding window, so "N per window" holds for every window, not
just on average: a token bucket would let 2N through around a refill boundary,
which is exactly when a relay starts refusing mail.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["RateLimit", "RateLimiter", "smtp_rate_limiter"]

# Sends are grouped into this many slots per window so a 100,000-a-day quota needs
# at most this many counters; a slot is forgotten only when its newest possible send
# is a whole window old, so grouping can delay a send slightly but never exceed the quota.
_SLOTS_PER_WINDOW = 600


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError(f"a rate limit needs count >= 1 and seconds > 0, got {self}")

    @classmethod
    def per_second(cls, count: int) -> RateLimit:
        return cls(count, 1.0)

    @classmethod
    def per_minute(cls, count: int) -> RateLimit:
        return cls(count, 60.0)

    @classmethod
    def per_day(cls, count: int) -> RateLimit:
        return cls(count, 86_400.0)


class _SlidingWindow:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._slot_seconds = limit.seconds / _SLOTS_PER_WINDOW
        self._slots: deque[list[float]] = deque()  # [slot end, sends in slot]
        self._total = 0

    def _forget_old(self, now: float) -> None:
        while self._slots and self._slots[0][0] + self.limit.seconds <= now:
            self._total -= int(self._slots.popleft()[1])

    def wait_needed(self, now: float, count: int) -> float:
        self._forget_old(now)
        excess = self._total + count - self.limit.count
        if excess <= 0:
            return 0.0
        freed = 0
        for slot_end, sends in self._slots:
            freed += int(sends)
            if freed >= excess:
                return slot_end + self.limit.seconds - now
        return math.inf  # asking for more than the window ever allows

    def record(self, now: float, count: int) -> None:
        slot_end = (math.floor(now / self._slot_seconds) + 1) * self._slot_seconds
        if self._slots and self._slots[-1][0] == slot_end:
            self._slots[-1][1] += count
        else:
            self._slots.append([slot_end, count])
        self._total += count

    def used(self, now: float) -> int:
        self._forget_old(now)
        return self._total


class RateLimiter:
    """All of several limits at once: a send is allowed only when every window has room.

    In-process only: with several worker processes, give each its share of the quota.
    """

    def __init__(
        self,
        *limits: RateLimit,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._windows = [_SlidingWindow(limit) for limit in limits]
        self._clock = clock
        self._sleep = sleep
        # First come, first served among waiting senders.
        self._queue = asyncio.Lock()

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        return tuple(window.limit for window in self._windows)

    def try_acquire(self, count: int = 1) -> float:
        """Take `count` sends now and return 0, or take nothing and return the seconds to wait.

        For a worker that would rather put a row back than hold it while sleeping
        (a spent daily quota can mean hours). math.inf: `count` exceeds a limit outright.
        """
        now = self._clock()
        wait = max((window.wait_needed(now, count) for window in self._windows), default=0.0)
        if wait > 0:
            return wait
        for window in self._windows:
            window.record(now, count)
        return 0.0

    async def acquire(self, count: int = 1) -> None:
        """Wait until `count` sends fit in every window, then take them."""
        async with self._queue:
            while True:
                wait = self.try_acquire(count)
                if wait == 0:
                    return
                if math.isinf(wait):
                    raise ValueError(f"{count} sends can never fit in {self.limits}")
                await self._sleep(wait)

    def remaining(self) -> tuple[int, ...]:
        """Sends still allowed right now in each window, in the order the limits were given."""
        now = self._clock()
        return tuple(window.limit.count - window.used(now) for window in self._windows)


def smtp_rate_limiter(
    per_minute: int | None,
    per_day: int | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> RateLimiter:
    """The relay's quota as configured; None means that window is unlimited."""
    limits = []
    if per_minute:
        limits.append(RateLimit.per_minute(per_minute))
    if per_day:
        limits.append(RateLimit.per_day(per_day))
    return RateLimiter(*limits, clock=clock, sleep=sleep)
