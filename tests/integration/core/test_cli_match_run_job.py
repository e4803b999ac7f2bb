"""`innoeng match run` asks for a job and follows it (real processes on one SQLite file): refused with the
console's reason (exit 2) while another run of the batch is unfinished; waits and prints progress, or returns
the job id with --no-wait; killed while it waits, the job is still solved by a worker; a worker process killed
mid-solve leaves a stale heartbeat, and another worker takes the job over."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from core.db.models import MatchingJob
from core.services.matching import MatchingService
from core.services.matching_jobs import JobState, MatchingJobService
from core.services.matching_worker import MatchingWorker
from core.texts import text
from tests.integration.core.test_cli import innoeng
from tests.support.cli import cli_core
from tests.support.factories import approved_expert, submitted_university

# Loaded by every Python process started with this directory on PYTHONPATH: the solve of a matching job
# takes INNOENG_TEST_SLOW_SOLVE seconds longer (a worker caught mid-solve, without timing luck).
SLOW_SOLVE = '''
import os
if os.environ.get("INNOENG_TEST_SLOW_SOLVE"):
    import time
    import core.services.matching as matching
    real = matching._build_and_solve
    def slow(*args):
        time.sleep(float(os.environ["INNOENG_TEST_SLOW_SOLVE"]))
        return real(*args)
    matching._build_and_solve = slow
'''


async def a_batch_to_match(core):
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    return await core.batches.current()


def spawn(*args: str, cwd: Path, env_extra: dict) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DEFAULT_BATCH"))}
    env.update(env_extra)
    return subprocess.Popen([sys.executable, "-m", "innoeng", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def until(condition, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(what)


async def the_job(core) -> SimpleNamespace | None:
    """The latest job asked for, as it is on record now."""
    async with core.uow() as uow:
        job = (await uow.session.scalars(select(MatchingJob).order_by(MatchingJob.started_at.desc()))).first()
        return None if job is None else SimpleNamespace(
            id=job.id, staff=job.staff, run_id=job.run_id, finished_at=job.finished_at, worker=job.worker,
            progress=job.progress)


def a_worker(core, **jobs_options) -> tuple[asyncio.Event, asyncio.Task]:
    jobs = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=core.clock, **jobs_options)
    service = MatchingService(uow=core.uow, zone=core.settings.zone, clock=core.clock, jobs=jobs)
    stop = asyncio.Event()
    return stop, asyncio.ensure_future(MatchingWorker(service, poll_interval_s=0.1).run(stop))


async def test_match_run_is_refused_while_the_batch_has_an_unfinished_run_and_waits_for_its_job(tmp_path):
    async with cli_core(tmp_path) as (core, env):
        batch = await a_batch_to_match(core)
        console = MatchingJobService(uow=core.uow, zone=core.settings.zone)  # the console asked for this batch
        job = await console.request(batch_id=batch.id, staff="console:1", job_id="a" * 32)

        def run(*extra):
            return innoeng("match", "run", "--batch", batch.name, "--time-limit", "3", *extra, cwd=tmp_path,
                           env_extra=env)

        refused = await asyncio.to_thread(run)
        assert refused.returncode == 2, refused.stdout
        assert refused.stderr.strip() == text("console.run_already_running", batch=batch.name,
                                              started=console.local_time(job.started_at))
        assert (await core.matching.list(staff="test")) == []

        await console.finish(job_id="a" * 32, error="x")
        stop, worker = a_worker(core)  # the notifier's worker, say
        try:
            ran = await asyncio.to_thread(run)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert ran.returncode == 0 and ran.stdout.startswith("第 1 次匹配"), ran.stderr
        assert "已提交匹配任务" in ran.stderr
        ours = await the_job(core)
        # The CLI acts as the shell's operator, named in the audit log by the OS user (core.domain.permissions).
        assert ours.staff.startswith("cli:") and ours.run_id == 1 and ours.finished_at is not None


async def test_a_run_asked_with_no_wait_or_by_a_killed_cli_is_still_solved_by_a_worker(tmp_path):
    async with cli_core(tmp_path) as (core, env):
        batch = await a_batch_to_match(core)

        # --no-wait: the job id, at once; nothing solves it until a worker runs.
        asked = await asyncio.to_thread(innoeng, "match", "run", "--batch", batch.name, "--no-wait",
                                        cwd=tmp_path, env_extra=env)
        assert asked.returncode == 0, asked.stderr
        job_id = asked.stdout.strip()
        assert len(job_id) == 32 and (await core.matching.jobs.get(job_id=job_id)).state is JobState.QUEUED
        shown = await asyncio.to_thread(innoeng, "match", "job", job_id, cwd=tmp_path, env_extra=env)
        assert "排队中" in shown.stdout, shown.stdout
        stop, worker = a_worker(core)
        try:
            followed = await asyncio.to_thread(innoeng, "match", "job", job_id, "--wait", cwd=tmp_path, env_extra=env)
            assert followed.returncode == 0 and followed.stdout.startswith("第 1 次匹配"), followed.stderr
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)

        # The asking process is killed while it waits: the job goes on without it.
        cli = spawn("match", "run", "--batch", batch.name, "--time-limit", "3", cwd=tmp_path, env_extra=env)
        try:
            async def asked_again():
                job = await the_job(core)
                return job is not None and job.id != job_id

            await until(asked_again, "the CLI never asked for its run")
        finally:
            cli.kill()
            cli.communicate(timeout=30)
        orphan = (await the_job(core)).id
        stop, worker = a_worker(core)
        try:
            done = await asyncio.wait_for(core.matching.jobs.wait(job_id=orphan, poll_s=0.1), 60)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert done.state is JobState.DONE and done.run_id == 2


async def test_a_worker_process_killed_mid_solve_is_taken_over_by_another(tmp_path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_SOLVE, encoding="utf-8")
    async with cli_core(tmp_path) as (core, env):
        batch = await a_batch_to_match(core)
        job = await core.matching.request_run(batch_id=batch.id, staff="console:1", time_limit=3)
        worker_process = spawn("match", "worker", cwd=tmp_path, env_extra={
            **env, "INNOENG_TEST_SLOW_SOLVE": "120",
            "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
        })
        try:
            async def solving():
                row = await the_job(core)
                return row.worker is not None and (row.progress or {}).get("stage") == "solving"

            await until(solving, "the worker process never started solving")
            claimed_by = (await the_job(core)).worker
            assert f":{worker_process.pid}:" in claimed_by
        finally:
            worker_process.send_signal(signal.SIGKILL)  # no goodbye: the heartbeat just stops
            worker_process.communicate(timeout=30)

        # Another worker (judging a heartbeat stale after 1 s here, 30 s in service) takes the job over.
        stop, worker = a_worker(core, stale_after_s=1)
        try:
            done = await asyncio.wait_for(core.matching.jobs.wait(job_id=job.id, poll_s=0.1), 60)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert done.state is JobState.DONE and done.run_id is not None and done.attempts == 2
        assert done.worker is None or done.worker != claimed_by
        row = await the_job(core)
        assert row.worker != claimed_by
