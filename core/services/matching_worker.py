"""The matching worker: claims queued matching jobs from the database and solves them, one at a time.

It runs inside the notifier process (and so inside `innoeng run`), or alone (`innoeng match worker`); any
number of them may run against one database (see core.services.matching_jobs for the claim). While a job
solves (the solver in a thread), the worker renews the job's heartbeat and writes where it stands; the run
and the end of the job commit together. A stop request lets the job in hand finish (its time limit bounds
it); a worker cancelled mid-solve hands the job back to the queue at once; a worker killed outright leaves a
heartbeat that goes stale, and the next worker to look takes the job over.
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import uuid
from typing import TYPE_CHECKING, Any

from core.domain import DomainError
from core.services.matching_jobs import ClaimedJob, JobLost, new_worker_id
from core.texts import text

if TYPE_CHECKING:
    from core.services.matching import MatchingService, RunView

__all__ = ["MatchingWorker", "POLL_INTERVAL_S"]

# How often an idle worker looks for a queued job (a read of a few rows; it writes only when there is one).
POLL_INTERVAL_S = 1.0

log = logging.getLogger("innoeng.matching")


class MatchingWorker:
    def __init__(self, matching: "MatchingService", *, worker_id: str | None = None,
                 poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self._matching = matching
        self.jobs = matching.jobs
        self.id = worker_id or new_worker_id()
        self._poll_interval_s = poll_interval_s
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Claims and solves queued jobs until `stop` is set (the job in hand is finished first)."""
        log.info("matching worker %s started", self.id)
        while not stop.is_set():
            try:
                job = await self.jobs.claim(worker=self.id)
            except Exception:  # the database went away for a moment: look again later
                log.warning("matching worker %s: could not look for jobs", self.id, exc_info=True)
                job = None
            if job is not None:
                await self.execute(job)
                continue
            self.wake.clear()
            waiting = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            try:
                await asyncio.wait(waiting, timeout=self._poll_interval_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiting:
                    waiter.cancel()
        log.info("matching worker %s stopped", self.id)

    async def run_once(self) -> bool:
        """Claims one queued job and solves it; False when there was none."""
        job = await self.jobs.claim(worker=self.id)
        if job is None:
            return False
        await self.execute(job)
        return True

    async def execute(self, job: ClaimedJob) -> "RunView | None":
        """Solves a claimed job and records how it ended: the run (stored with the job's end), the refusal, or
        a server error (its trace in the log under a reference). None unless a run was stored."""
        log.info("matching job %s (batch %s, attempt %s) claimed by %s", job.id, job.batch_id, job.attempts, self.id)
        progress: dict[str, Any] = {"stage": "loading"}
        changed = asyncio.Event()

        def report(stage: str, **details: Any) -> None:
            progress.clear()
            progress.update(stage=stage, **details)
            changed.set()

        task = asyncio.ensure_future(self._matching.solve_job(job, report=report))
        try:
            await self.jobs.beat_until_done(job=job, task=task, progress=lambda: dict(progress), changed=changed)
            run = await task
        except asyncio.CancelledError:
            task.cancel()
            # Handed back at once (not counted as an attempt): another worker need not wait for a stale heartbeat.
            await asyncio.shield(self._quietly(self.jobs.release(job=job), job))
            raise
        except JobLost:
            log.warning("matching job %s: %s lost it to another worker; its run was not stored", job.id, self.id)
            return None
        except DomainError as refusal:
            await self._quietly(self.jobs.fail(job=job, error=refusal.message), job)
            return None
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("matching job %s failed (%s)", job.id, ref)
            await self._quietly(self.jobs.fail(job=job, error=text("console.server_error", ref=ref)), job)
            return None
        finally:
            _return_freed_memory()
        log.info("matching job %s done: run %s", job.id, run.id)
        return run

    @staticmethod
    async def _quietly(writing, job: ClaimedJob) -> None:
        # The outcome could not be written (the database went away): the heartbeat has stopped, so the job is
        # taken over or written off once it is stale.
        try:
            await writing
        except Exception:
            log.exception("matching job %s: could not record its outcome", job.id)


def _return_freed_memory() -> None:
    """Give the heap a solve freed back to the system: glibc keeps it otherwise, and the process that hosts
    the worker (the notifier) would stay at its largest job's size (~0.8 GB after a national batch)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
