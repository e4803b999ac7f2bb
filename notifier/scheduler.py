"""Timed notices, in the worker process: each tick asks the core what is due now (deadline
reminders, event reminders, the staff digest) and writes it to the outbox. Ticks are cheap
and idempotent, so the interval only bounds how late a notice can be, and two notifier
processes ticking side by side write each notice once.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from core.services.notifications import NotificationService
from core.services.retention import RetentionService

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        notifications: NotificationService,
        *,
        interval_s: float = 60.0,
        on_queued: Callable[[], None] | None = None,
        retention: RetentionService | None = None,
        retention_interval_s: float = 3600.0,
    ) -> None:
        self._notifications = notifications
        self._interval_s = interval_s
        self._on_queued = on_queued
        # The retention job (idempotent, so two notifiers running it side by side do no harm) and the
        # retry of file deletions that failed; at most once per retention_interval_s.
        self._retention = retention
        self._retention_interval_s = retention_interval_s
        self._retention_due_at = 0.0

    async def tick(self) -> dict[str, int]:
        written = await self._notifications.schedule_all()
        if any(written.values()):
            log.info("scheduled %s", written)
            if self._on_queued is not None:
                # SQLite has no NOTIFY: tell this process's worker directly.
                self._on_queued()
        return written

    async def retain(self) -> dict[str, int] | None:
        """Runs the retention job when its interval has passed; None when it was not due."""
        loop_time = asyncio.get_running_loop().time()
        if self._retention is None or loop_time < self._retention_due_at:
            return None
        self._retention_due_at = loop_time + self._retention_interval_s
        counts = await self._retention.run()
        if any(counts.values()):
            log.info("retention %s", counts)
        return counts

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a failed tick is retried at the next one; nothing is lost
                log.exception("scheduler tick failed")
            try:
                await self.retain()
            except Exception:  # the next interval retries; the job is idempotent
                log.exception("retention job failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
            except TimeoutError:
                pass
