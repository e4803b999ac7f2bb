"""Matching jobs on record (both databases): the console asks for a run (a queued job) and follows it from the
database while a worker solves it; a restarted console still follows it; a job whose workers died is shown as
interrupted with the reason; a second run of a batch is refused while one is unfinished."""
from __future__ import annotations

import asyncio
import re
from datetime import date
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from console.app import create_app
from core.db.models import MatchingJob
from core.services.matching_jobs import JobAlreadyRunning, JobState, MatchingJobService
from core.services.matching_worker import MatchingWorker
from core.texts import text
from tests.support.factories import approved_expert, submitted_university

PASSWORD = "a-long-enough-passphrase"


def jobs_of(core) -> MatchingJobService:
    return MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=core.clock)


async def rows(core) -> list[SimpleNamespace]:
    async with core.uow() as uow:
        found = (await uow.session.scalars(select(MatchingJob).order_by(MatchingJob.started_at, MatchingJob.id))).all()
        return [SimpleNamespace(id=j.id, error=j.error, finished_at=j.finished_at, run_id=j.run_id) for j in found]


async def test_a_job_runs_finishes_or_fails_and_a_batch_solves_once_at_a_time(core, clock):
    jobs = jobs_of(core)
    batch = await core.batches.current()
    other = await core.batches.create(name="第二批", registration_opens=date(2025, 7, 1),
                                      registration_closes=date(2025, 9, 30), actor="test")

    job = await jobs.start(job_id="a" * 32, batch_id=batch.id, staff="console:1")
    assert job.state is JobState.QUEUED and job.batch_name == batch.name
    with pytest.raises(JobAlreadyRunning) as refused:
        await jobs.start(job_id="b" * 32, batch_id=batch.id, staff="console:2")
    assert refused.value.job_id == "a" * 32
    assert refused.value.message == text("console.run_already_running", batch=batch.name,
                                         started=jobs.local_time(job.started_at))
    assert "正在计算中" in refused.value.message
    # Another batch is not held up.
    assert (await jobs.start(job_id="c" * 32, batch_id=other.id, staff="console:2")).state is JobState.QUEUED
    assert [j.id for j in await jobs.current()] == ["a" * 32, "c" * 32]

    # A worker claims it; heartbeats keep it alive past the stale limit; it then ends.
    claimed = await jobs.claim(worker="w1")
    assert claimed.id == "a" * 32
    for _ in range(3):
        clock.advance(seconds=20)
        assert await jobs.heartbeat(job_id="a" * 32, worker="w1")
        assert (await jobs.get(job_id="a" * 32)).state is JobState.RUNNING
    assert await jobs.fail(job=claimed, error="本批次还没有可匹配的高校课程需求。")
    failed = await jobs.get(job_id="a" * 32)
    assert failed.state is JobState.FAILED and failed.error == "本批次还没有可匹配的高校课程需求。"
    assert failed.seconds == 60
    # Finished: the batch may be solved again.
    assert (await jobs.start(job_id="d" * 32, batch_id=batch.id, staff="console:1")).state is JobState.QUEUED


async def test_a_job_whose_worker_stops_is_taken_over_or_written_off_and_every_look_records_it(core, clock):
    jobs = jobs_of(core)
    batch = await core.batches.current()
    await jobs.start(job_id="a" * 32, batch_id=batch.id, staff="console:1")
    await jobs.claim(worker="w1")
    clock.advance(seconds=10)
    await jobs.heartbeat(job_id="a" * 32, worker="w1")
    clock.advance(seconds=30)  # exactly the limit: not yet
    assert (await jobs.get(job_id="a" * 32)).state is JobState.RUNNING
    clock.advance(seconds=1)
    # Seen stale: queued again for another worker, and written down, so that every page and process agrees.
    assert await jobs.sweep() == 1
    job = await jobs.get(job_id="a" * 32)
    assert job.state is JobState.QUEUED and job.worker is None and job.attempts == 1
    # A late heartbeat of the first worker does not take it back.
    assert not await jobs.heartbeat(job_id="a" * 32, worker="w1")
    await jobs.claim(worker="w2")
    clock.advance(seconds=31)
    # Its second worker stopped too: interrupted, with the reason, until the batch is started again.
    job = await jobs.get(job_id="a" * 32)
    assert job.state is JobState.INTERRUPTED and job.error == text("console.run_interrupted_reason")
    [row] = await rows(core)
    assert row.error == text("console.run_interrupted_reason") and row.finished_at is None
    assert [(j.id, j.state) for j in await jobs.current()] == [("a" * 32, JobState.INTERRUPTED)]
    again = await jobs.start(job_id="b" * 32, batch_id=batch.id, staff="console:1")
    assert [(j.id, j.state) for j in await jobs.current()] == [(again.id, JobState.QUEUED)]


async def test_the_database_holds_one_unfinished_job_per_batch(core, clock):
    batch = await core.batches.current()
    now = clock()
    async with core.uow() as uow:
        uow.session.add(MatchingJob(id="a" * 32, batch_id=batch.id, staff="x", started_at=now, heartbeat_at=now))
        await uow.commit()
    async with core.uow() as uow:
        uow.session.add(MatchingJob(id="b" * 32, batch_id=batch.id, staff="x", started_at=now, heartbeat_at=now))
        with pytest.raises(IntegrityError):
            await uow.commit()
    # Finished or interrupted jobs do not count.
    async with core.uow() as uow:
        uow.session.add(MatchingJob(id="c" * 32, batch_id=batch.id, staff="x", started_at=now, heartbeat_at=now,
                                    finished_at=now, error="x"))
        uow.session.add(MatchingJob(id="d" * 32, batch_id=batch.id, staff="x", started_at=now, heartbeat_at=now,
                                    error="interrupted"))
        await uow.commit()
    assert len(await rows(core)) == 3


async def test_two_starts_of_one_batch_at_once_give_one_job(core):
    jobs = jobs_of(core)
    batch = await core.batches.current()
    outcomes = await asyncio.gather(*(jobs.start(job_id=f"{n:x}" * 32, batch_id=batch.id, staff="console:1")
                                      for n in range(1, 5)), return_exceptions=True)
    started = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(started) == 1, outcomes
    # The others are told why (not a database error).
    assert all(isinstance(o, JobAlreadyRunning) for o in outcomes if o not in started), outcomes
    assert len(await rows(core)) == 1


# ---------------------------------------------------------------------------------------------- over HTTP
def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def _console(core) -> TestClient:
    client = TestClient(TestServer(create_app(core)))
    await client.start_server()
    token = _csrf(await (await client.get("/login")).text())
    response = await client.post("/login", data={"csrf_token": token, "email": "li@example.org", "password": PASSWORD,
                                                 "next": ""}, allow_redirects=False)
    assert response.status == 303
    return client


async def _start(client, batch_id: int, time_limit: int = 5):
    token = _csrf(await (await client.get("/matching")).text())
    return await client.post("/matching/runs", data={"csrf_token": token, "batch_id": str(batch_id),
                                                     "time_limit": str(time_limit)}, allow_redirects=False)


async def _worker(core):
    """A worker process on the same database (the notifier's, say): claims and solves queued jobs."""
    stop = asyncio.Event()
    task = asyncio.ensure_future(MatchingWorker(core.matching, poll_interval_s=0.05).run(stop))
    return stop, task


async def _follow(client, job_id: str, *, seconds: float = 60):
    """What the page does (it refreshes every 2 s): looks until the job is no longer queued or running."""
    for _ in range(int(seconds / 0.1)):
        response = await client.get(f"/matching/jobs/{job_id}", allow_redirects=False)
        if response.status == 303:
            return response
        page = await response.text()
        if 'http-equiv="refresh"' not in page:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError("the job never finished")


async def test_the_console_asks_for_a_run_and_follows_it_across_a_restart_while_a_worker_solves_it(core, clock):
    link = await core.staff.add(email="li@example.org", name="李协调", role="coordinator", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    await approved_expert(core, name="甲专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="第一理工大学")
    batch = await core.batches.current()

    first = await _console(core)
    try:
        response = await _start(first, batch.id, time_limit=3)
        assert response.status == 303
        job_id = response.headers["Location"].rsplit("/", 1)[1]
        # No worker yet: queued, and the page says so (and keeps refreshing).
        page = await (await first.get(f"/matching/jobs/{job_id}")).text()
        assert "正在计算中" in page and "排队中，等待计算进程领取" in page and 'http-equiv="refresh"' in page
        overview = await (await first.get("/matching")).text()
        assert "排队等待计算" in overview and f"/matching/jobs/{job_id}" in overview
        # A second run of the batch meanwhile: refused with the reason and a link to the queued one.
        refused = await _start(first, batch.id)
        assert refused.status == 409
        body = await refused.text()
        assert "同一批次一次只能计算一次匹配" in body and f"/matching/jobs/{job_id}" in body
        assert len(await rows(core)) == 1
    finally:
        await first.close()  # the console goes away: the job does not depend on it

    stop, worker = await _worker(core)
    second = await _console(core)  # the console restarted
    try:
        done = await _follow(second, job_id)
        [row] = await rows(core)
        assert row.run_id is not None and row.finished_at is not None
        assert done.status == 303 and done.headers["Location"] == f"/matching/runs/{row.run_id}?ok=run_done"
    finally:
        await second.close()
        stop.set()
        await asyncio.wait_for(worker, 30)


async def test_a_solve_that_finishes_records_its_run_on_the_job(core, clock):
    link = await core.staff.add(email="li@example.org", name="李协调", role="coordinator", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    batch = await core.batches.current()
    client = await _console(core)
    stop, worker = await _worker(core)
    try:
        # Nothing to match: the job fails with the engine's reason.
        response = await _start(client, batch.id)
        job_id = response.headers["Location"].rsplit("/", 1)[1]
        for _ in range(300):
            [row] = await rows(core)
            if row.finished_at is not None:
                break
            await asyncio.sleep(0.1)
        assert row.run_id is None and "没有可匹配的高校课程需求" in row.error
        page = await (await client.get(f"/matching/jobs/{job_id}")).text()
        assert "匹配计算失败" in page and "重新开始匹配" in page

        await approved_expert(core, name="甲专家", courses=["创新思维"])
        await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="第一理工大学")
        response = await _start(client, batch.id, time_limit=3)
        job_id = response.headers["Location"].rsplit("/", 1)[1]
        for _ in range(600):
            job = await jobs_of(core).get(job_id=job_id)
            if job.state.finished:
                break
            await asyncio.sleep(0.1)
        assert job.state is JobState.DONE and job.run_id is not None
        done = await client.get(f"/matching/jobs/{job_id}", allow_redirects=False)
        assert done.status == 303 and done.headers["Location"] == f"/matching/runs/{job.run_id}?ok=run_done"
    finally:
        await client.close()
        stop.set()
        await asyncio.wait_for(worker, 30)
