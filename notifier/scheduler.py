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

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        notifications: NotificationService,
        *,
        interval_s: float = 60.0,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._notifications = notifications
        self._interval_s = interval_s
        self._on_queued = on_queued

    async def tick(self) -> dict[str, int]:
        written = await self._notifications.schedule_all()
        if any(written.values()):
            log.info("scheduled %s", written)
            if self._on_queued is not None:
                # SQLite has no NOTIFY: tell this process's worker directly.
                self._on_queued()
        return written

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a failed tick is retried at the next one; nothing is lost
                log.exception("scheduler tick failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
            except TimeoutError:
                pass
