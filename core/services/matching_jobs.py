"""Matching runs as jobs in the database: asked for by any entry point, solved by whichever worker claims them.

The life of a job (`matching_jobs`):

  queued    the console, the bot's /match or `innoeng match run` asked for a run (`request`): a row with no
            worker. Refused with the same reason everywhere (JobAlreadyRunning) while the batch has an
            unfinished job, also under concurrent requests (a partial unique index).
  running   a worker claimed it (`claim`: on PostgreSQL the pick takes FOR UPDATE SKIP LOCKED, on SQLite the
            UPDATE ... WHERE worker IS NULL is atomic by itself, so several workers are safe). It renews the
            heartbeat and writes its progress while it solves; every write is conditioned on the worker still
            holding the job.
  done      the run is stored and the job finished in the same transaction (`record_run`): a worker that lost
            the job (taken over) cannot store a second run.
  failed    finished without a run: the refusal of the engine, or a server error under a reference.
  interrupted  its worker died (heartbeat older than `stale_after_s`) and it had been claimed `max_attempts`
            times: written down with the reason, never left running. With attempts left, a stale job is
            simply claimable again: the next worker that looks takes it over.

Whoever asked follows the row (`get`, `wait`): the asking process may stop and come back, the job goes on.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import Batch, MatchingJob
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.services.common import Clock, utc_now
from core.texts import text

__all__ = ["JobState", "MatchingJobView", "MatchingJobService", "JobAlreadyRunning", "JobLost", "ClaimedJob",
           "new_worker_id", "progress_line", "HEARTBEAT_INTERVAL_S", "STALE_AFTER_S", "MAX_ATTEMPTS"]

# A worker renews the heartbeat this often; a heartbeat older than STALE_AFTER_S means its worker is gone.
HEARTBEAT_INTERVAL_S = 5
STALE_AFTER_S = 30
# Claims of one job before a dying worker is taken to be the job's fault (say, out of memory): interrupted.
MAX_ATTEMPTS = 2

log = logging.getLogger("innoeng.matching")

_T = MatchingJob.__table__


class JobState(StrEnum):
    QUEUED = "queued"        # asked for; no worker holds it (yet, or again after its worker died)
    RUNNING = "running"      # a worker holds it and its heartbeat is fresh
    DONE = "done"            # the run is stored: run_id
    FAILED = "failed"        # finished without a run: error says why (a refusal, or a server error)
    INTERRUPTED = "interrupted"  # its workers died before it finished, as often as it may be claimed

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.INTERRUPTED)


@dataclass(frozen=True)
class MatchingJobView:
    id: str
    batch_id: int
    batch_name: str
    staff: str
    started_at: datetime  # when it was asked for
    finished_at: datetime | None
    heartbeat_at: datetime
    run_id: int | None
    error: str | None
    state: JobState
    seconds: int  # since it was asked for, until now or until it ended
    time_limit: float = 10.0
    worker: str | None = None
    attempts: int = 0
    progress: dict[str, Any] = field(default_factory=dict)
    reply_chat: int | None = None
    waiting_s: int = 0  # queued: how long it has waited for a worker

    @property
    def progress_text(self) -> str:
        return progress_line(self)


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    batch_id: int
    staff: str
    time_limit: float
    worker: str
    attempts: int


class JobAlreadyRunning(DomainError):
    """A second run for a batch while one is unfinished: refused, with the job to follow."""

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message, code="matching_job_running")
        self.job_id = job_id


class JobLost(Exception):
    """The worker no longer holds the job (another took it over, or it was written off): its outcome is not
    recorded, and a run it solved is not stored."""


def new_worker_id(kind: str = "worker") -> str:
    return f"{kind}:{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def progress_line(job: MatchingJobView) -> str:
    """One line for staff: where the job stands (the console's page, the CLI's progress, the bot)."""
    p = job.progress or {}
    if job.state is JobState.QUEUED:
        if p.get("taken_over"):
            return text("match.job.taken_over", attempt=job.attempts + 1)
        if job.waiting_s > STALE_AFTER_S:
            return text("match.job.no_worker", seconds=job.waiting_s)
        return text("match.job.queued", seconds=job.waiting_s)
    if job.state is JobState.RUNNING:
        stage = p.get("stage")
        if stage == "solving":
            return text("match.job.solving", experts=p.get("experts", 0), demands=p.get("demands", 0),
                        slots=p.get("slots", 0), time_limit=float(p.get("time_limit", job.time_limit)),
                        seconds=job.seconds)
        if stage == "storing":
            return text("match.job.storing", seconds=job.seconds)
        return text("match.job.loading", seconds=job.seconds)
    return job.error or ""


def _unfinished():
    """Neither finished nor marked interrupted."""
    return MatchingJob.finished_at.is_(None) & MatchingJob.error.is_(None)


class MatchingJobService:
    def __init__(self, *, uow: UnitOfWorkFactory, zone: ZoneInfo, clock: Clock = utc_now,
                 stale_after_s: float = STALE_AFTER_S, heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock
        self._stale_after = timedelta(seconds=stale_after_s)
        self.heartbeat_interval_s = heartbeat_interval_s
        self._max_attempts = max_attempts

    # ------------------------------------------------------------------ asking for a run
    async def request(self, *, batch_id: int, staff: str, time_limit: float = 10.0, reply_chat: int | None = None,
                      job_id: str | None = None) -> MatchingJobView:
        """Queues a run of the batch for a worker; refused while another job of the same batch is unfinished."""
        now = self._clock()
        job_id = job_id or uuid.uuid4().hex
        async with self._uow() as uow:
            batch = await uow.session.get(Batch, batch_id)
            if batch is None:
                raise NotFound(f"没有找到批次 {batch_id}。")
            name = batch.name  # a rollback below expires the row
            await self._sweep(uow, now)
            await self._refuse_if_running(uow, batch_id, name)
            job = MatchingJob(id=job_id, batch_id=batch_id, staff=staff, started_at=now, heartbeat_at=now,
                              time_limit=float(time_limit), attempts=0, reply_chat=reply_chat)
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

    async def start(self, *, job_id: str, batch_id: int, staff: str, time_limit: float = 10.0) -> MatchingJobView:
        """`request` under the name the console used before jobs were queued."""
        return await self.request(batch_id=batch_id, staff=staff, time_limit=time_limit, job_id=job_id)

    # ------------------------------------------------------------------ a worker's side
    async def claim(self, *, worker: str, job_id: str | None = None) -> ClaimedJob | None:
        """The oldest queued job (or `job_id` only), now held by `worker`; None when there is none to take.

        First the stale jobs are dealt with: those claimed `max_attempts` times are written off as interrupted,
        the others are queued again (taken over here or by the next worker that looks)."""
        now = self._clock()
        async with self._uow() as uow:
            # A read first: an idle worker looking every second writes nothing (SQLite has one writer).
            takeable = await uow.session.scalar(select(_T.c.id).where(
                _T.c.finished_at.is_(None), _T.c.error.is_(None),
                or_(_T.c.worker.is_(None), _T.c.heartbeat_at < now - self._stale_after),
                *([_T.c.id == job_id] if job_id is not None else [])).limit(1))
            if takeable is None:
                return None
            postgres = uow.session.bind.dialect.name == "postgresql"
            await self._sweep(uow, now)
            conditions = [_T.c.finished_at.is_(None), _T.c.error.is_(None), _T.c.worker.is_(None)]
            if job_id is not None:
                conditions.append(_T.c.id == job_id)
            pick = select(_T.c.id).where(*conditions).order_by(_T.c.started_at, _T.c.id).limit(1)
            if postgres:
                pick = pick.with_for_update(skip_locked=True)
            row = (await uow.session.execute(
                update(_T).where(_T.c.id.in_(pick.scalar_subquery()), *conditions)
                .values(worker=worker, claimed_at=now, heartbeat_at=now, attempts=_T.c.attempts + 1,
                        progress={"stage": "loading"})
                .returning(_T.c.id, _T.c.batch_id, _T.c.staff, _T.c.time_limit, _T.c.attempts)
                .execution_options(synchronize_session=False))).first()
            await uow.commit()
        if row is None:
            return None
        return ClaimedJob(id=row.id, batch_id=row.batch_id, staff=row.staff, time_limit=float(row.time_limit),
                          worker=worker, attempts=row.attempts)

    async def heartbeat(self, *, job_id: str, worker: str | None = None,
                        progress: dict[str, Any] | None = None) -> bool:
        """The worker is alive (and, with `progress`, where it stands): False if it no longer holds the job."""
        values: dict[str, Any] = {"heartbeat_at": self._clock()}
        if progress is not None:
            values["progress"] = progress
        async with self._uow() as uow:
            result = await uow.session.execute(
                update(_T).where(_T.c.id == job_id, _T.c.finished_at.is_(None), _T.c.error.is_(None),
                                 *([_T.c.worker == worker] if worker is not None else []))
                .values(**values).execution_options(synchronize_session=False))
            await uow.commit()
            return bool(result.rowcount)

    async def beat_until_done(self, *, job: ClaimedJob, task: asyncio.Future,
                              progress: Callable[[], dict[str, Any] | None] = lambda: None,
                              changed: asyncio.Event | None = None) -> None:
        """Renews the job's heartbeat every interval (and at once when `changed` is set) until `task` is done,
        with the progress `progress()` reports."""
        while not task.done():
            change = asyncio.ensure_future(changed.wait()) if changed is not None else None
            try:
                await asyncio.wait({task, *([change] if change else [])}, timeout=self.heartbeat_interval_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                if change is not None:
                    change.cancel()
            if changed is not None:
                changed.clear()
            if task.done():
                break
            try:
                if not await self.heartbeat(job_id=job.id, worker=job.worker, progress=progress()):
                    # Finished a moment ago (the run is stored), or taken over: its solve stores nothing then.
                    log.debug("matching job %s: %s no longer holds it", job.id, job.worker)
            except Exception:  # a database hiccup: the next beat tries again (30 s of them before it counts)
                log.warning("matching job %s: heartbeat not recorded", job.id, exc_info=True)

    async def record_run(self, uow: UnitOfWork, *, job: ClaimedJob, run_id: int) -> None:
        """In the transaction that stores the run: the job is done with it, if this worker still holds it
        (JobLost otherwise, and the caller rolls the run back)."""
        result = await uow.session.execute(
            update(_T).where(_T.c.id == job.id, _T.c.worker == job.worker, _T.c.finished_at.is_(None),
                             _T.c.error.is_(None))
            .values(finished_at=self._clock(), run_id=run_id, progress=None)
            .execution_options(synchronize_session=False))
        if not result.rowcount:
            raise JobLost(job.id)

    async def fail(self, *, job: ClaimedJob, error: str) -> bool:
        """The solve ended without a run: why. False if this worker no longer holds the job."""
        async with self._uow() as uow:
            result = await uow.session.execute(
                update(_T).where(_T.c.id == job.id, _T.c.worker == job.worker, _T.c.finished_at.is_(None),
                                 _T.c.error.is_(None))
                .values(finished_at=self._clock(), error=error, progress=None)
                .execution_options(synchronize_session=False))
            await uow.commit()
            return bool(result.rowcount)

    async def release(self, *, job: ClaimedJob) -> None:
        """The worker stops before the solve ended (shutdown): the job is queued again at once for another
        worker, and this claim does not count against it."""
        async with self._uow() as uow:
            await uow.session.execute(
                update(_T).where(_T.c.id == job.id, _T.c.worker == job.worker, _T.c.finished_at.is_(None),
                                 _T.c.error.is_(None))
                .values(worker=None, claimed_at=None, attempts=_T.c.attempts - 1, heartbeat_at=self._clock(),
                        progress=None)
                .execution_options(synchronize_session=False))
            await uow.commit()

    async def finish(self, *, job_id: str, run_id: int | None = None, error: str | None = None) -> None:
        """Ends a job whoever holds it (staff tooling and tests): the run it stored, or why it failed."""
        async with self._uow() as uow:
            await uow.session.execute(update(MatchingJob).where(MatchingJob.id == job_id).values(
                finished_at=self._clock(), run_id=run_id, error=None if run_id is not None else error, progress=None))
            await uow.commit()

    # ------------------------------------------------------------------ following a job
    async def get(self, *, job_id: str) -> MatchingJobView:
        now = self._clock()
        async with self._uow() as uow:
            await self._sweep(uow, now)
            await uow.commit()
            found = (await uow.session.execute(
                select(MatchingJob, Batch.name).join(Batch, Batch.id == MatchingJob.batch_id)
                .where(MatchingJob.id == job_id))).first()
            if found is None:
                raise NotFound(f"没有找到匹配任务 {job_id}。")
            return self._view(found[0], found[1], now)

    async def wait(self, *, job_id: str, poll_s: float = 1.0,
                   on_change: Callable[[MatchingJobView], Awaitable[None] | None] | None = None) -> MatchingJobView:
        """Follows the job until it has finished (done, failed or interrupted); `on_change` hears each new
        progress line. Cancelling the wait leaves the job to its worker."""
        last = None
        while True:
            job = await self.get(job_id=job_id)
            line = (job.state, job.progress_text if job.state is not JobState.RUNNING else job.progress.get("stage"))
            if on_change is not None and line != last:
                outcome = on_change(job)
                if asyncio.iscoroutine(outcome):
                    await outcome
            last = line
            if job.state.finished:
                return job
            await asyncio.sleep(poll_s)

    async def sweep(self) -> int:
        """Deals with every job whose worker died: queued again, or written off; returns how many."""
        now = self._clock()
        async with self._uow() as uow:
            count = await self._sweep(uow, now)
            await uow.commit()
            return count

    async def current(self) -> list[MatchingJobView]:
        """What the runs page shows: the jobs queued or solving now, and each batch's latest job if it was
        interrupted (until someone starts that batch again)."""
        now = self._clock()
        async with self._uow() as uow:
            await self._sweep(uow, now)
            await uow.commit()
            latest = (select(MatchingJob.batch_id, func.max(MatchingJob.started_at).label("started_at"))
                      .group_by(MatchingJob.batch_id).subquery())
            rows = (await uow.session.execute(
                select(MatchingJob, Batch.name).join(Batch, Batch.id == MatchingJob.batch_id)
                .join(latest, (latest.c.batch_id == MatchingJob.batch_id) & (latest.c.started_at == MatchingJob.started_at))
                .where(MatchingJob.finished_at.is_(None))
                .order_by(MatchingJob.started_at, MatchingJob.id))).all()
            return [self._view(job, name, now) for job, name in rows]

    # ------------------------------------------------------------------ the bot's report of a finished job
    async def claim_reports(self, *, limit: int = 10) -> list[MatchingJobView]:
        """Finished jobs asked for from a chat whose outcome was not posted yet, each handed to one caller
        (several bot processes: a conditional UPDATE decides)."""
        now = self._clock()
        async with self._uow() as uow:
            await self._sweep(uow, now)
            await uow.commit()
            candidates = (await uow.session.execute(
                select(MatchingJob, Batch.name).join(Batch, Batch.id == MatchingJob.batch_id).where(
                    MatchingJob.reply_chat.is_not(None), MatchingJob.reported_at.is_(None),
                    or_(MatchingJob.finished_at.is_not(None), MatchingJob.error.is_not(None)))
                .order_by(MatchingJob.started_at).limit(limit))).all()
            won = []
            for job, name in candidates:
                result = await uow.session.execute(
                    update(_T).where(_T.c.id == job.id, _T.c.reported_at.is_(None)).values(reported_at=now)
                    .execution_options(synchronize_session=False))
                if result.rowcount:
                    won.append(self._view(job, name, now))
            await uow.commit()
            return won

    async def unreport(self, *, job_id: str) -> None:
        """The post failed: the next look tries again."""
        async with self._uow() as uow:
            await uow.session.execute(update(_T).where(_T.c.id == job_id).values(reported_at=None)
                                      .execution_options(synchronize_session=False))
            await uow.commit()

    # ------------------------------------------------------------------ internals
    async def _sweep(self, uow: UnitOfWork, now: datetime) -> int:
        """Running jobs whose heartbeat went stale lost their worker: written off as interrupted once claimed
        `max_attempts` times, queued again (for another worker to take over) before that."""
        stale = [_T.c.finished_at.is_(None), _T.c.error.is_(None), _T.c.worker.is_not(None),
                 _T.c.heartbeat_at < now - self._stale_after]
        written_off = await uow.session.execute(
            update(_T).where(*stale, _T.c.attempts >= self._max_attempts)
            .values(error=text("console.run_interrupted_reason"), progress=None)
            .execution_options(synchronize_session=False))
        requeued = await uow.session.execute(
            update(_T).where(*stale, _T.c.attempts < self._max_attempts)
            .values(worker=None, claimed_at=None, heartbeat_at=now, progress={"taken_over": True})
            .execution_options(synchronize_session=False))
        for _ in range(requeued.rowcount or 0):
            log.warning("matching job: a worker stopped mid-solve; the job is queued again for another worker")
        return (written_off.rowcount or 0) + (requeued.rowcount or 0)

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
        elif job.error is not None:
            state = JobState.INTERRUPTED
        elif job.worker is None:
            state = JobState.QUEUED
        else:
            # A stale heartbeat is dealt with by the sweep every look runs first.
            state = JobState.RUNNING
        end = job.finished_at or (job.heartbeat_at if state is JobState.INTERRUPTED else now)
        return MatchingJobView(
            id=job.id, batch_id=job.batch_id, batch_name=batch_name, staff=job.staff, started_at=job.started_at,
            finished_at=job.finished_at, heartbeat_at=job.heartbeat_at, run_id=job.run_id,
            error=job.error, state=state, seconds=max(0, int((end - job.started_at).total_seconds())),
            time_limit=float(job.time_limit if job.time_limit is not None else 10.0), worker=job.worker,
            attempts=job.attempts or 0, progress=dict(job.progress or {}), reply_chat=job.reply_chat,
            waiting_s=max(0, int((now - job.heartbeat_at).total_seconds())) if state is JobState.QUEUED else 0,
        )
