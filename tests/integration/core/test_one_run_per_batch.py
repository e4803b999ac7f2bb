"""One matching run per batch at a time, whoever starts it (both databases): MatchingService.run itself records
the run as a job, so the bot's /match and `innoeng match run` are refused like the console while another run
of the batch is unfinished, keep the job alive while they solve, and write down how it ended."""
from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from core.db.models import MatchingJob, MatchRun
from core.domain import DomainError
from core.services import matching as matching_module
from core.services.matching import MatchingService
from core.services.matching_jobs import JobAlreadyRunning, JobState, MatchingJobService
from core.texts import text
from tests.support.factories import approved_expert, submitted_university


async def a_batch_to_match(core):
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    return await core.batches.current()


async def jobs_on_record(core) -> list[SimpleNamespace]:
    async with core.uow() as uow:
        found = (await uow.session.scalars(select(MatchingJob).order_by(MatchingJob.started_at, MatchingJob.id))).all()
        return [SimpleNamespace(id=j.id, staff=j.staff, run_id=j.run_id, error=j.error, finished_at=j.finished_at)
                for j in found]


async def runs_stored(core) -> int:
    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(MatchRun))


def quick_beats(core, clock) -> MatchingService:
    """The core's matching service with a heartbeat every 50 ms, so a test can watch it during a solve."""
    jobs = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=clock, heartbeat_interval_s=0.05)
    return MatchingService(uow=core.uow, zone=core.settings.zone, clock=clock, jobs=jobs)


@pytest.fixture
def slow_solver(monkeypatch):
    """The real build-and-solve, held in its worker thread until the test releases it."""
    real = matching_module._build_and_solve
    solving, release = threading.Event(), threading.Event()

    def held(*args):
        solving.set()
        assert release.wait(30), "the test never released the solver"
        return real(*args)

    monkeypatch.setattr(matching_module, "_build_and_solve", held)
    yield SimpleNamespace(solving=solving, release=release)
    release.set()


async def until(event: threading.Event) -> None:
    for _ in range(600):
        if event.is_set():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the solver never started")


async def test_a_run_is_refused_with_the_consoles_reason_while_another_run_of_the_batch_is_unfinished(core, clock):
    batch = await a_batch_to_match(core)
    console_jobs = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=clock)  # as the console's
    console = await console_jobs.start(job_id="a" * 32, batch_id=batch.id, staff="console:1")

    with pytest.raises(JobAlreadyRunning) as refused:
        await core.matching.run(batch_id=batch.id, staff="cli", time_limit=3)

    assert refused.value.message == text("console.run_already_running", batch=batch.name,
                                         started=console_jobs.local_time(console.started_at))
    assert refused.value.job_id == "a" * 32
    assert await runs_stored(core) == 0
    assert [j.id for j in await jobs_on_record(core)] == ["a" * 32]  # the refused run left no job behind

    # Once the console's job ended, the same call runs, on record as a job with the run it stored.
    await console_jobs.finish(job_id="a" * 32, error="x")
    run = await core.matching.run(batch_id=batch.id, staff="cli", time_limit=3)
    assert run.filled == 1
    (ours,) = [j for j in await jobs_on_record(core) if j.id != "a" * 32]
    assert (ours.staff, ours.run_id, ours.error) == ("cli", run.id, None) and ours.finished_at is not None
    assert (await console_jobs.get(job_id=ours.id)).state is JobState.DONE


async def test_a_refused_run_records_why_and_leaves_the_batch_free(core):
    batch = await core.batches.current()  # nothing to match yet

    with pytest.raises(DomainError) as refused:
        await core.matching.run(batch_id=batch.id, staff="staff:42")

    (job,) = await jobs_on_record(core)
    assert job.error == refused.value.message == "本批次还没有可匹配的高校课程需求。" and job.finished_at is not None
    assert job.staff == "staff:42"
    await a_batch_to_match(core)
    assert (await core.matching.run(batch_id=batch.id, staff="staff:42", time_limit=3)).filled == 1


async def test_two_runs_of_one_batch_started_at_once_solve_once(core):
    batch = await a_batch_to_match(core)

    outcomes = await asyncio.gather(*(core.matching.run(batch_id=batch.id, staff=f"staff:{n}", time_limit=3)
                                      for n in range(3)), return_exceptions=True)

    refused = [o for o in outcomes if isinstance(o, JobAlreadyRunning)]
    assert len(refused) == 2 and all("正在计算中" in r.message for r in refused), outcomes
    assert await runs_stored(core) == 1
    assert [j.run_id is not None for j in await jobs_on_record(core)] == [True]


async def test_the_job_stays_alive_while_it_solves_and_other_processes_are_refused(core, clock, slow_solver):
    batch = await a_batch_to_match(core)
    matching = quick_beats(core, clock)
    other_process = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=clock)

    running = asyncio.ensure_future(matching.run(batch_id=batch.id, staff="cli", time_limit=3))
    await until(slow_solver.solving)
    # A minute passes while it solves: its heartbeats keep it from counting as interrupted.
    for _ in range(3):
        clock.advance(seconds=20)
        await asyncio.sleep(0.3)
        assert await other_process.interrupt_stale() == 0
        (job,) = await other_process.current()
        assert job.state is JobState.RUNNING and job.staff == "cli"
    with pytest.raises(JobAlreadyRunning):
        await other_process.start(job_id="b" * 32, batch_id=batch.id, staff="console:1")

    slow_solver.release.set()
    run = await running
    assert (await other_process.get(job_id=job.id)).run_id == run.id


async def test_a_run_cancelled_mid_solve_is_interrupted_at_once(core, clock, slow_solver):
    batch = await a_batch_to_match(core)
    running = asyncio.ensure_future(core.matching.run(batch_id=batch.id, staff="cli", time_limit=3))
    await until(slow_solver.solving)

    running.cancel()  # Ctrl-C in the CLI, a bot stopping
    with pytest.raises(asyncio.CancelledError):
        await running

    (job,) = await jobs_on_record(core)
    assert job.error == text("console.run_interrupted_reason") and job.finished_at is None
    assert (await core.matching.jobs.get(job_id=job.id)).state is JobState.INTERRUPTED
    # The batch need not wait for a stale heartbeat to be started again.
    assert (await core.matching.jobs.start(job_id="c" * 32, batch_id=batch.id, staff="console:1")).state is JobState.RUNNING
    slow_solver.release.set()
    await asyncio.sleep(0.2)
    assert await runs_stored(core) == 0


async def test_the_console_solves_only_the_unfinished_job_it_recorded(core):
    batch = await a_batch_to_match(core)
    job = await core.matching.jobs.start(job_id="a" * 32, batch_id=batch.id, staff="console:1")

    # Following the job it recorded: solves (the console's thread then writes the outcome itself).
    run = await core.matching.run(batch_id=batch.id, staff="console:1", time_limit=3, job_id=job.id)
    assert run.filled == 1
    await core.matching.jobs.finish(job_id=job.id, run_id=run.id)
    # A finished, unknown or other batch's job is no way around the guard.
    for job_id, batch_id in (("a" * 32, batch.id), ("f" * 32, batch.id), ("a" * 32, batch.id + 1)):
        with pytest.raises(DomainError) as refused:
            await core.matching.run(batch_id=batch_id, staff="console:1", time_limit=3, job_id=job_id)
        assert "不在计算中" in refused.value.message
    assert await runs_stored(core) == 1
