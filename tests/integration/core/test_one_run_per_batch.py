"""One matching run per batch at a time, whoever asks (both databases): a run is a queued job that a worker
claims from the database; the console, the bot and the CLI are refused alike while another run of the batch is
unfinished; several workers never solve one job twice; a worker that dies mid-solve is taken over once its
heartbeat is stale, or the job is written off with a reason after its last attempt."""
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
from core.services.matching_worker import MatchingWorker
from core.texts import text
from tests.support.factories import approved_expert, submitted_university


async def a_batch_to_match(core):
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    return await core.batches.current()


async def jobs_on_record(core) -> list[SimpleNamespace]:
    async with core.uow() as uow:
        found = (await uow.session.scalars(select(MatchingJob).order_by(MatchingJob.started_at, MatchingJob.id))).all()
        return [SimpleNamespace(id=j.id, staff=j.staff, run_id=j.run_id, error=j.error, finished_at=j.finished_at,
                                worker=j.worker, attempts=j.attempts) for j in found]


async def runs_stored(core) -> int:
    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(MatchRun))


def a_process(core, clock, **jobs_options) -> MatchingService:
    """Another process on the same database: its own services (heartbeat every 50 ms, to watch it)."""
    jobs = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=clock, heartbeat_interval_s=0.05,
                              **jobs_options)
    return MatchingService(uow=core.uow, zone=core.settings.zone, clock=clock, jobs=jobs)


@pytest.fixture
def slow_solver(monkeypatch):
    """The real build-and-solve, held in its worker thread until the test releases it."""
    real = matching_module._build_and_solve
    solving, release = threading.Event(), threading.Event()
    calls = []

    def held(*args):
        calls.append(args)
        solving.set()
        assert release.wait(30), "the test never released the solver"
        return real(*args)

    monkeypatch.setattr(matching_module, "_build_and_solve", held)
    yield SimpleNamespace(solving=solving, release=release, calls=calls)
    release.set()


async def until(condition, what: str = "the solver never started") -> None:
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def test_a_run_is_refused_with_the_consoles_reason_while_another_run_of_the_batch_is_unfinished(core, clock):
    batch = await a_batch_to_match(core)
    console_jobs = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=clock)  # as the console's
    console = await console_jobs.request(batch_id=batch.id, staff="console:1", job_id="a" * 32)
    assert console.state is JobState.QUEUED

    with pytest.raises(JobAlreadyRunning) as refused:
        await core.matching.request_run(batch_id=batch.id, staff="cli", time_limit=3)
    assert refused.value.message == text("console.run_already_running", batch=batch.name,
                                         started=console_jobs.local_time(console.started_at))
    assert refused.value.job_id == "a" * 32
    assert [j.id for j in await jobs_on_record(core)] == ["a" * 32]  # the refused request left no job behind

    # A worker solves the queued job: the run and the end of the job together.
    assert await MatchingWorker(core.matching).run_once()
    done = await console_jobs.get(job_id="a" * 32)
    assert done.state is JobState.DONE and done.run_id is not None and done.attempts == 1
    assert await runs_stored(core) == 1
    # Finished: the batch may be asked for again.
    assert (await core.matching.request_run(batch_id=batch.id, staff="cli", time_limit=3)).state is JobState.QUEUED


async def test_a_refused_run_records_why_and_leaves_the_batch_free(core):
    batch = await core.batches.current()  # nothing to match yet

    with pytest.raises(DomainError) as refused:
        await core.matching.run(batch_id=batch.id, staff="staff:42")

    (job,) = await jobs_on_record(core)
    assert job.error == refused.value.message == "本批次还没有可匹配的高校课程需求。" and job.finished_at is not None
    assert job.staff == "staff:42"
    assert (await core.matching.jobs.get(job_id=job.id)).state is JobState.FAILED
    await a_batch_to_match(core)
    assert (await core.matching.run(batch_id=batch.id, staff="staff:42", time_limit=3)).filled == 1


async def test_two_requests_of_one_batch_at_once_give_one_job(core):
    batch = await a_batch_to_match(core)

    outcomes = await asyncio.gather(*(core.matching.request_run(batch_id=batch.id, staff=f"staff:{n}", time_limit=3)
                                      for n in range(4)), return_exceptions=True)

    refused = [o for o in outcomes if isinstance(o, JobAlreadyRunning)]
    assert len(refused) == 3 and all("正在计算中" in r.message for r in refused), outcomes
    assert len(await jobs_on_record(core)) == 1


async def test_several_workers_claim_each_job_once(core, clock):
    batch = await a_batch_to_match(core)
    job = await core.matching.request_run(batch_id=batch.id, staff="console:1", time_limit=3)
    workers = [a_process(core, clock).jobs for _ in range(4)]

    claims = await asyncio.gather(*(jobs.claim(worker=f"w{n}") for n, jobs in enumerate(workers)))

    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].id == job.id and won[0].attempts == 1, claims
    (row,) = await jobs_on_record(core)
    assert row.worker == won[0].worker
    # Held and alive: nobody else may take it.
    assert await workers[0].claim(worker="late") is None


async def test_the_worker_reports_progress_and_keeps_the_job_alive_while_it_solves(core, clock, slow_solver):
    batch = await a_batch_to_match(core)
    job = await core.matching.request_run(batch_id=batch.id, staff="console:1", time_limit=3)
    worker_process = a_process(core, clock)
    follower = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=clock)  # the console, say
    stop = asyncio.Event()
    worker = asyncio.ensure_future(MatchingWorker(worker_process, poll_interval_s=0.05).run(stop))
    try:
        await until(slow_solver.solving.is_set)
        # A minute passes while it solves: its heartbeats keep it running, with where it stands.
        for _ in range(3):
            clock.advance(seconds=20)
            await asyncio.sleep(0.3)
            seen = await follower.get(job_id=job.id)
            assert seen.state is JobState.RUNNING, seen
        assert seen.progress["stage"] == "solving" and seen.progress["experts"] == 1 and seen.progress["slots"] == 1
        assert "正在求解：专家 1 位，课程需求 1 项共 1 个名额，时限 3 秒" in seen.progress_text
        with pytest.raises(JobAlreadyRunning):
            await follower.request(batch_id=batch.id, staff="cli")

        slow_solver.release.set()
        done = await asyncio.wait_for(follower.wait(job_id=job.id, poll_s=0.05), 30)
        assert done.state is JobState.DONE and done.run_id is not None
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)


async def test_a_worker_that_dies_mid_solve_is_taken_over_and_its_late_run_is_not_stored(core, clock, slow_solver):
    batch = await a_batch_to_match(core)
    job = await core.matching.request_run(batch_id=batch.id, staff="staff:42", time_limit=3)
    first = a_process(core, clock)
    claimed = await first.jobs.claim(worker="first")
    # The first worker solves... and stops renewing its heartbeat (frozen, or killed: the same to the others).
    frozen = asyncio.ensure_future(first.solve_job(claimed))
    await until(slow_solver.solving.is_set)

    clock.advance(seconds=31)
    second = a_process(core, clock)
    taken = await second.jobs.claim(worker="second")
    assert taken is not None and taken.id == job.id and taken.attempts == 2
    # The first worker wakes up and finishes its solve: its run is not stored, the job is not its own any more.
    slow_solver.release.set()
    from core.services.matching_jobs import JobLost
    with pytest.raises(JobLost):
        await frozen
    assert await runs_stored(core) == 0
    assert await first.jobs.fail(job=claimed, error="late") is False

    run = await MatchingWorker(second, worker_id="second").execute(taken)
    assert run is not None and run.filled == 1
    done = await core.matching.jobs.get(job_id=job.id)
    assert done.state is JobState.DONE and done.run_id == run.id and done.attempts == 2
    assert await runs_stored(core) == 1


async def test_a_job_whose_workers_keep_dying_is_written_off_with_the_reason(core, clock):
    batch = await a_batch_to_match(core)
    job = await core.matching.request_run(batch_id=batch.id, staff="console:1", time_limit=3)
    jobs = core.matching.jobs
    assert (await jobs.claim(worker="one")).attempts == 1
    clock.advance(seconds=31)
    # Stale: queued again, and shown so until a worker takes it.
    queued = await jobs.get(job_id=job.id)
    assert queued.state is JobState.QUEUED and "交给另一个计算进程" in queued.progress_text
    assert (await jobs.claim(worker="two")).attempts == 2
    clock.advance(seconds=31)

    # Its last attempt died too: interrupted with the reason, never left running; the batch is free again.
    assert await jobs.claim(worker="three") is None
    seen = await jobs.get(job_id=job.id)
    assert seen.state is JobState.INTERRUPTED and seen.error == text("console.run_interrupted_reason")
    assert [(j.id, j.state) for j in await jobs.current()] == [(job.id, JobState.INTERRUPTED)]
    again = await core.matching.request_run(batch_id=batch.id, staff="console:1", time_limit=3)
    assert [(j.id, j.state) for j in await jobs.current()] == [(again.id, JobState.QUEUED)]


async def test_a_worker_stopped_mid_solve_hands_the_job_back_at_once(core, clock, slow_solver):
    batch = await a_batch_to_match(core)
    job = await core.matching.request_run(batch_id=batch.id, staff="cli", time_limit=3)
    worker = asyncio.ensure_future(MatchingWorker(a_process(core, clock), poll_interval_s=0.05).run(asyncio.Event()))
    await until(slow_solver.solving.is_set)

    worker.cancel()  # the process shutting down around it
    with pytest.raises(asyncio.CancelledError):
        await worker

    seen = await core.matching.jobs.get(job_id=job.id)
    assert seen.state is JobState.QUEUED and seen.attempts == 0  # not counted against the job
    slow_solver.release.set()
    assert await MatchingWorker(core.matching).run_once()
    assert (await core.matching.jobs.get(job_id=job.id)).state is JobState.DONE
    assert await runs_stored(core) == 1
