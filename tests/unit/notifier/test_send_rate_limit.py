"""Send quotas with a hand-driven clock."""
from __future__ import annotations

import asyncio
import math

import pytest

from notifier.rate_limit import RateLimit, RateLimiter, smtp_rate_limiter


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_per_minute_quota_allows_the_count_then_asks_to_wait():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit.per_minute(3), clock=clock)

    assert [limiter.try_acquire() for _ in range(3)] == [0, 0, 0]
    wait = limiter.try_acquire()

    assert 59.9 <= wait <= 60.2
    assert limiter.remaining() == (0,)


def test_no_window_ever_holds_more_than_the_quota():
    # A token bucket would allow 2N around a refill; a relay counting a sliding window would refuse.
    clock = FakeClock()
    limiter = RateLimiter(RateLimit.per_minute(10), clock=clock)
    sent_at = []
    for _ in range(2_000):
        if limiter.try_acquire() == 0:
            sent_at.append(clock.now)
        clock.now += 0.37
    assert sent_at
    for index, start in enumerate(sent_at):
        in_window = [t for t in sent_at[index:] if t < start + 60]
        assert len(in_window) <= 10


def test_quota_refills_as_old_sends_leave_the_window():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit.per_minute(2), clock=clock)
    limiter.try_acquire()
    clock.now += 30
    limiter.try_acquire()
    assert limiter.try_acquire() > 0

    clock.now += 30.2
    assert limiter.try_acquire() == 0  # the first send has left the window
    assert limiter.try_acquire() > 0   # the second has not


def test_day_quota_applies_alongside_the_minute_quota():
    clock = FakeClock()
    limiter = smtp_rate_limiter(per_minute=100, per_day=150, clock=clock)
    sent = 0
    while limiter.try_acquire() == 0:
        sent += 1
    assert sent == 100
    clock.now += 61
    while limiter.try_acquire() == 0:
        sent += 1
    assert sent == 150
    wait = limiter.try_acquire()
    assert 86_400 - 61 - 200 < wait <= 86_400
    assert limiter.remaining() == (50, 0)  # 50 sent in the current minute, none left today


def test_a_refused_try_takes_nothing():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit.per_minute(5), RateLimit(1, 10), clock=clock)
    assert limiter.try_acquire() == 0
    assert limiter.try_acquire() > 0
    assert limiter.remaining() == (4, 0)


async def test_acquire_sleeps_until_allowed():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit.per_second(2), clock=clock, sleep=clock.sleep)

    for _ in range(5):
        await limiter.acquire()

    # 2 now, 2 after about a second, 1 after about two.
    assert len(clock.slept) == 2
    assert 1.9 <= clock.now - 1_000.0 <= 2.1


async def test_concurrent_acquirers_never_exceed_the_quota():
    clock = FakeClock()
    limiter = RateLimiter(RateLimit.per_second(3), clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def sender():
        await limiter.acquire()
        times.append(clock.now)

    await asyncio.gather(*(sender() for _ in range(9)))

    assert len(times) == 9
    for start in times:
        assert len([t for t in times if start <= t < start + 1.0]) <= 3


async def test_more_than_the_quota_at_once_is_an_error():
    limiter = RateLimiter(RateLimit.per_minute(2), clock=FakeClock())
    assert math.isinf(limiter.try_acquire(3))
    with pytest.raises(ValueError):
        await limiter.acquire(3)


def test_no_limits_means_unlimited():
    limiter = smtp_rate_limiter(per_minute=None, per_day=None, clock=FakeClock())
    assert all(limiter.try_acquire() == 0 for _ in range(10_000))


def test_rate_limit_rejects_nonsense():
    with pytest.raises(ValueError):
        RateLimit(0, 60)
    with pytest.raises(ValueError):
        RateLimit(1, 0)
