"""`innoeng match run` keeps to one run per batch like the console (a real process): refused with the same
reason (exit 2) while another run of the batch is unfinished, on record as a job when it runs."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.db.models import MatchingJob
from core.services.matching_jobs import MatchingJobService
from core.texts import text
from tests.integration.core.test_cli import innoeng
from tests.support.cli import cli_core
from tests.support.factories import approved_expert, submitted_university


async def test_match_run_is_refused_while_the_batch_has_an_unfinished_run(tmp_path):
    async with cli_core(tmp_path) as (core, env):
        await approved_expert(core, name="韩专家", courses=["创新思维"])
        await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
        batch = await core.batches.current()
        console = MatchingJobService(uow=core.uow, zone=core.settings.zone)  # the console solving this batch
        job = await console.start(job_id="a" * 32, batch_id=batch.id, staff="console:1")

        def run():
            return innoeng("match", "run", "--batch", batch.name, "--time-limit", "3", cwd=tmp_path, env_extra=env)

        refused = await asyncio.to_thread(run)
        assert refused.returncode == 2, refused.stdout
        assert refused.stderr.strip() == text("console.run_already_running", batch=batch.name,
                                              started=console.local_time(job.started_at))
        assert (await core.matching.list()) == []

        await console.finish(job_id="a" * 32, error="x")
        ran = await asyncio.to_thread(run)
        assert ran.returncode == 0 and ran.stdout.startswith("第 1 次匹配"), ran.stderr
        async with core.uow() as uow:
            ours = (await uow.session.scalars(select(MatchingJob).where(MatchingJob.id != "a" * 32))).one()
            assert (ours.staff, ours.run_id) == ("cli", 1) and ours.finished_at is not None
