"""/match in the chat asks for a run (a job a worker solves) and answers at once; the outcome is posted when
the job finishes. One run per batch: refused with the console's reason while another run of the batch is
unfinished. A run asked from the bot is followed by the console from the database."""
from __future__ import annotations

import asyncio
import re

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from console.app import create_app
from core.db.models import MatchingJob, MatchRun
from core.services.matching_jobs import MatchingJobService
from core.services.matching_worker import MatchingWorker
from core.texts import text
from tests.e2e.bot.conftest import STAFF_ID
from tests.support.chat import ChatDriver
from tests.support.factories import approved_expert, submitted_university

PASSWORD = "a-long-enough-passphrase"


async def go(people) -> None:
    """/match as staff use it: pick the batch, read what the run would take, say go."""
    chat = ChatDriver(people, STAFF_ID)
    await people.send_text(STAFF_ID, "/match")
    ask = await chat.wait_for(lambda m: "对哪个批次运行匹配" in m.text)
    await people.press_button(STAFF_ID, ask, ask.buttons[0])
    prompt = await chat.wait_for(lambda m: "确认运行" in m.text)
    await people.press_button(STAFF_ID, prompt, "▶️ 运行匹配")


class Worker:
    """A matching worker on the same database (the notifier process's)."""

    def __init__(self, core) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.ensure_future(MatchingWorker(core.matching, poll_interval_s=0.1).run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)


async def test_match_is_refused_while_a_console_run_of_the_batch_is_unfinished(running_bot, people):
    core = running_bot.core
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    batch = await core.batches.current()
    console = MatchingJobService(uow=core.uow, zone=core.settings.zone)  # another process: the console
    job = await console.request(batch_id=batch.id, staff="console:1", job_id="a" * 32)
    chat = ChatDriver(people, STAFF_ID)

    await go(people)

    refusal = await chat.wait_for(lambda m: "正在计算中" in m.text or "已开始" in m.text)
    assert refusal.text == text("console.run_already_running", batch=batch.name,
                                started=console.local_time(job.started_at)), refusal.text
    async with core.uow() as uow:
        assert (await uow.session.scalars(select(MatchRun))).all() == []
        assert [j.id for j in (await uow.session.scalars(select(MatchingJob))).all()] == ["a" * 32]

    # The console's run ended: /match asks for one, answers at once, and a worker solves it.
    await console.finish(job_id="a" * 32, error="x")
    await go(people)
    started = await chat.wait_for(lambda m: "已开始" in m.text or "正在计算中" in m.text)
    assert "已开始对「" in started.text and "结果会发到这里" in started.text, started.text
    worker = Worker(core)
    try:
        summary = await chat.wait_for(lambda m: "第 1 次匹配" in m.text, 60)
    finally:
        await worker.close()
    assert "填补 1/1" in summary.text
    async with core.uow() as uow:
        ours = (await uow.session.scalars(select(MatchingJob).where(MatchingJob.id != "a" * 32))).one()
        assert (ours.staff, ours.run_id, ours.error) == (f"staff:{STAFF_ID}", 1, None) and ours.finished_at is not None
        assert ours.reply_chat == STAFF_ID and ours.reported_at is not None


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def test_a_run_asked_from_the_bot_is_followed_by_the_console_and_posted_to_the_chat(running_bot, people):
    core = running_bot.core
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    link = await core.staff.add(email="li@example.org", name="李协调", role="coordinator", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    chat = ChatDriver(people, STAFF_ID)
    console = TestClient(TestServer(create_app(core)))
    await console.start_server()
    worker = None
    try:
        token = _csrf(await (await console.get("/login")).text())
        await console.post("/login", data={"csrf_token": token, "email": "li@example.org", "password": PASSWORD,
                                           "next": ""})

        await go(people)
        await chat.wait_for(lambda m: "已开始" in m.text)
        # The console sees the bot's run on its runs page and follows it (no worker yet: queued).
        overview = await (await console.get("/matching")).text()
        job_id = re.search(r'/matching/jobs/([0-9a-f]{32})', overview).group(1)
        page = await (await console.get(f"/matching/jobs/{job_id}")).text()
        assert "排队中" in page and 'http-equiv="refresh"' in page
        # Staff at the console cannot start the same batch meanwhile.
        token = _csrf(overview)
        batch = await core.batches.current()
        refused = await console.post("/matching/runs", data={"csrf_token": token, "batch_id": str(batch.id),
                                                             "time_limit": "3"}, allow_redirects=False)
        assert refused.status == 409

        worker = Worker(core)
        for _ in range(600):
            response = await console.get(f"/matching/jobs/{job_id}", allow_redirects=False)
            if response.status == 303:
                break
            await asyncio.sleep(0.1)
        assert response.status == 303 and response.headers["Location"] == "/matching/runs/1?ok=run_done"
        # The chat that asked gets the outcome, once.
        summary = await chat.wait_for(lambda m: "第 1 次匹配" in m.text, 60)
        assert "填补 1/1" in summary.text
        await asyncio.sleep(1.5)
        assert len([m for m in await people.bot_messages(STAFF_ID) if "第 1 次匹配" in (m.text or "")]) == 1
    finally:
        if worker is not None:
            await worker.close()
        await console.close()
