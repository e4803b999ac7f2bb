"""/match in the chat keeps to one run per batch: refused with the console's reason while another run of the
batch is unfinished, and on record as a job of its own when it runs."""
from __future__ import annotations

from sqlalchemy import select

from core.db.models import MatchingJob, MatchRun
from core.services.matching_jobs import MatchingJobService
from core.texts import text
from tests.e2e.bot.conftest import STAFF_ID
from tests.support.chat import ChatDriver
from tests.support.factories import approved_expert, submitted_university


async def go(people) -> None:
    """/match as staff use it: pick the batch, read what the run would take, say go."""
    chat = ChatDriver(people, STAFF_ID)
    await people.send_text(STAFF_ID, "/match")
    ask = await chat.wait_for(lambda m: "对哪个批次运行匹配" in m.text)
    await people.press_button(STAFF_ID, ask, ask.buttons[0])
    prompt = await chat.wait_for(lambda m: "确认运行" in m.text)
    await people.press_button(STAFF_ID, prompt, "▶️ 运行匹配")


async def test_match_is_refused_while_a_console_run_of_the_batch_is_unfinished(running_bot, people):
    core = running_bot.core
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    batch = await core.batches.current()
    console = MatchingJobService(uow=core.uow, zone=core.settings.zone)  # another process: the console
    job = await console.start(job_id="a" * 32, batch_id=batch.id, staff="console:1")
    chat = ChatDriver(people, STAFF_ID)

    await go(people)

    refusal = await chat.wait_for(lambda m: "正在计算中" in m.text or "次匹配" in m.text)
    assert refusal.text == text("console.run_already_running", batch=batch.name,
                                started=console.local_time(job.started_at)), refusal.text
    async with core.uow() as uow:
        assert (await uow.session.scalars(select(MatchRun))).all() == []
        assert [j.id for j in (await uow.session.scalars(select(MatchingJob))).all()] == ["a" * 32]

    # The console's run ended: /match runs, and its job is on record with the run it stored.
    await console.finish(job_id="a" * 32, error="x")
    await go(people)
    summary = await chat.wait_for(lambda m: "第 1 次匹配" in m.text or "正在计算中" in m.text)
    assert "第 1 次匹配" in summary.text, summary.text
    async with core.uow() as uow:
        ours = (await uow.session.scalars(select(MatchingJob).where(MatchingJob.id != "a" * 32))).one()
        assert (ours.staff, ours.run_id, ours.error) == (f"staff:{STAFF_ID}", 1, None) and ours.finished_at is not None
