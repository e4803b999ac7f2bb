"""Matching runs on record in the database: one unfinished run per batch, whoever starts it.

Every run of a batch is a job (`matching_jobs`), started by the console, the bot's /match or `innoeng match
run` through MatchingService.run: a second start while the batch has an unfinished job is refused with the
same reason everywhere (JobAlreadyRunning), also under concurrent starts (a partial unique index). While the
run solves, its process renews the heartbeat; the job then records the run it stored (or why it failed). A
process that dies mid-solve stops the heartbeat: once it is older than `stale_after_s` the job is
interrupted, and the next look at it (any process, after a restart) writes that down, so the progress page
and the runs page say so instead of forgetting the job, and the batch may be started again.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import Batch, MatchingJob
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.services.common import Clock, utc_now
from core.texts import text

__all__ = ["JobState", "MatchingJobView", "MatchingJobService", "JobAlreadyRunning",
           "HEARTBEAT_INTERVAL_S", "STALE_AFTER_S"]

# The solving process renews the heartbeat this often; a heartbeat older than STALE_AFTER_S means it is gone.
HEARTBEAT_INTERVAL_S = 5
STALE_AFTER_S = 30

log = logging.getLogger("innoeng.matching")


class _Stored(Protocol):
    id: int  # the run a solve stored


Run = TypeVar("Run", bound=_Stored)


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"            # the run is stored: run_id
    FAILED = "failed"        # finished without a run: error says why (a refusal, or a server error)
    INTERRUPTED = "interrupted"  # its process stopped before it finished


@dataclass(frozen=True)
class MatchingJobView:
    id: str
    batch_id: int
    batch_name: str
    staff: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime
    run_id: int | None
    error: str | None
    state: JobState
    seconds: int  # solving so far, or until it ended


class JobAlreadyRunning(DomainError):
    """A second run for a batch while one is solving: refused, with the running job to follow."""

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message, code="matching_job_running")
        self.job_id = job_id


def _unfinished():
    """Neither finished nor marked interrupted."""
    return MatchingJob.finished_at.is_(None) & MatchingJob.error.is_(None)


class MatchingJobService:
    def __init__(self, *, uow: UnitOfWorkFactory, zone: ZoneInfo, clock: Clock = utc_now,
                 stale_after_s: float = STALE_AFTER_S, heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock
        self._stale_after = timedelta(seconds=stale_after_s)
        self._heartbeat_interval = heartbeat_interval_s

    async def start(self, *, job_id: str, batch_id: int, staff: str) -> MatchingJobView:
        """Records a new job for the batch; refused while another job of the same batch is solving."""
        now = self._clock()
        async with self._uow() as uow:
            batch = await uow.session.get(Batch, batch_id)
            if batch is None:
                raise NotFound(f"没有找到批次 {batch_id}。")
            name = batch.name  # a rollback below expires the row
            await self._interrupt_stale(uow, now)
            await self._refuse_if_running(uow, batch_id, name)
            job = MatchingJob(id=job_id, batch_id=batch_id, staff=staff, started_at=now, heartbeat_at=now)
            uow.session.add(job)
            try:
                await uow.commit()
            except IntegrityError:
                # Another request of the same batch committed between our look and our insert (the partial
                # unique index): the same refusal, naming that job.
                await uow.session.rollback()
                await self._refuse_if_running(uow, batch_id, name)
                raise
            return self._view(job, name, now)

    async def follow(self, *, job_id: str, solving: Awaitable[Run]) -> Run:
        """Awaits a started job's solve in this process, renewing its heartbeat meanwhile, and records how it
        ended: the run it stored, the refusal, or a server error (its trace in the log under a reference).
        A solve cancelled here (Ctrl-C in the CLI, a stopping bot) is marked interrupted at once, so the batch
        need not wait for the heartbeat to go stale before it can be started again."""
        task = asyncio.ensure_future(solving)
        try:
            await self.beat_until_done(job_id=job_id, task=task)
            return await self.settle(job_id=job_id, outcome=task)
        except asyncio.CancelledError:
            task.cancel()
            await self._record(self.interrupt(job_id=job_id), job_id)
            raise

    async def beat_until_done(self, *, job_id: str, task: asyncio.Future) -> None:
        """Renews the job's heartbeat every interval until `task` (the solve) is done."""
        while not task.done():
            await asyncio.wait({task}, timeout=self._heartbeat_interval)
            if not task.done():
                try:
                    await self.heartbeat(job_id=job_id)
                except Exception:  # a database hiccup: the next beat tries again (30 s of them before it counts)
                    log.warning("matching job %s: heartbeat not recorded", job_id, exc_info=True)

    async def settle(self, *, job_id: str, outcome: Awaitable[Run]) -> Run:
        """Awaits the solve and records how it ended on the job: the run it stored, the refusal, or a server
        error (its trace in the log under a reference). The outcome still reaches the caller."""
        try:
            run = await outcome
        except DomainError as refusal:
            await self._record(self.finish(job_id=job_id, error=refusal.message), job_id)
            raise
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("matching job %s failed (%s)", job_id, ref)
            await self._record(self.finish(job_id=job_id, error=text("console.server_error", ref=ref)), job_id)
            raise
        await self._record(self.finish(job_id=job_id, run_id=run.id), job_id)
        return run

    async def interrupt(self, *, job_id: str) -> None:
        """Its process stops before the solve finished: the job is interrupted now (as a stale one would be)."""
        async with self._uow() as uow:
            await uow.session.execute(update(MatchingJob).where(
                MatchingJob.id == job_id, _unfinished(),
            ).values(error=text("console.run_interrupted_reason")))
            await uow.commit()

    async def ensure_running(self, *, job_id: str, batch_id: int) -> None:
        """A solve that follows a job recorded elsewhere (the console's request) solves only that job's batch,
        and only while the job is unfinished."""
        async with self._uow() as uow:
            job = await uow.session.get(MatchingJob, job_id)
            if job is None or job.batch_id != batch_id or job.finished_at is not None or job.error is not None:
                raise DomainError(text("match.job_not_running", job=job_id))

    async def heartbeat(self, *, job_id: str) -> None:
        """The solving process is alive: renews the heartbeat of an unfinished job."""
        async with self._uow() as uow:
            await uow.session.execute(update(MatchingJob).where(
                MatchingJob.id == job_id, _unfinished(),
            ).values(heartbeat_at=self._clock()))
            await uow.commit()

    async def finish(self, *, job_id: str, run_id: int | None = None, error: str | None = None) -> None:
        """The solve ended: the run it stored, or why it failed. The truth replaces an interrupted mark
        (a process that was only frozen, not dead, may still finish)."""
        async with self._uow() as uow:
            await uow.session.execute(update(MatchingJob).where(MatchingJob.id == job_id).values(
                finished_at=self._clock(), run_id=run_id, error=None if run_id is not None else error))
            await uow.commit()

    async def get(self, *, job_id: str) -> MatchingJobView:
        now = self._clock()
        async with self._uow() as uow:
            await self._interrupt_stale(uow, now)
            await uow.commit()
            found = (await uow.session.execute(
                select(MatchingJob, Batch.name).join(Batch, Batch.id == MatchingJob.batch_id)
                .where(MatchingJob.id == job_id))).first()
            if found is None:
                raise NotFound(f"没有找到匹配任务 {job_id}。")
            return self._view(found[0], found[1], now)

    async def interrupt_stale(self) -> int:
        """Marks every unfinished job whose heartbeat went stale as interrupted; returns how many."""
        now = self._clock()
        async with self._uow() as uow:
            count = await self._interrupt_stale(uow, now)
            await uow.commit()
            return count

    async def current(self) -> list[MatchingJobView]:
        """What the runs page shows: the jobs solving now, and each batch's latest job if it was interrupted
        (until someone starts that batch again)."""
        now = self._clock()
        async with self._uow() as uow:
            await self._interrupt_stale(uow, now)
            await uow.commit()
            latest = (select(MatchingJob.batch_id, func.max(MatchingJob.started_at).label("started_at"))
                      .group_by(MatchingJob.batch_id).subquery())
            rows = (await uow.session.execute(
                select(MatchingJob, Batch.name).join(Batch, Batch.id == MatchingJob.batch_id)
                .join(latest, (latest.c.batch_id == MatchingJob.batch_id) & (latest.c.started_at == MatchingJob.started_at))
                .where(MatchingJob.finished_at.is_(None))
                .order_by(MatchingJob.started_at, MatchingJob.id))).all()
            return [self._view(job, name, now) for job, name in rows]

    # ------------------------------------------------------------------ internals
    @staticmethod
    async def _record(writing: Awaitable[None], job_id: str) -> None:
        # The outcome could not be written (the database went away): the heartbeat has stopped, so the job
        # shows as interrupted soon; the solve's own outcome (run or error) still reaches the caller.
        try:
            await writing
        except Exception:
            log.exception("matching job %s: could not record its outcome", job_id)

    async def _interrupt_stale(self, uow: UnitOfWork, now: datetime) -> int:
        result = await uow.session.execute(update(MatchingJob).where(
            _unfinished(), MatchingJob.heartbeat_at < now - self._stale_after,
        ).values(error=text("console.run_interrupted_reason")))
        return result.rowcount or 0

    async def _refuse_if_running(self, uow: UnitOfWork, batch_id: int, batch_name: str) -> None:
        running = await uow.session.scalar(select(MatchingJob).where(
            MatchingJob.batch_id == batch_id, _unfinished()))
        if running is not None:
            raise JobAlreadyRunning(text("console.run_already_running", batch=batch_name,
                                         started=self.local_time(running.started_at)), job_id=running.id)

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M:%S")

    def _view(self, job: MatchingJob, batch_name: str, now: datetime) -> MatchingJobView:
        if job.run_id is not None:
            state = JobState.DONE
        elif job.finished_at is not None:
            state = JobState.FAILED
        elif job.error is not None or now - job.heartbeat_at > self._stale_after:
            state = JobState.INTERRUPTED
        else:
            state = JobState.RUNNING
        end = job.finished_at or (job.heartbeat_at if state is JobState.INTERRUPTED else now)
        return MatchingJobView(
            id=job.id, batch_id=job.batch_id, batch_name=batch_name, staff=job.staff, started_at=job.started_at,
            finished_at=job.finished_at, heartbeat_at=job.heartbeat_at, run_id=job.run_id,
            error=job.error if state is not JobState.INTERRUPTED else (job.error or text("console.run_interrupted_reason")),
            state=state, seconds=max(0, int((end - job.started_at).total_seconds())),
        )
