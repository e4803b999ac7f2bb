"""A console that stops while a matching run solves: the run is a job a worker solves, so after the restart the
progress page follows it to its end. A job whose workers died is shown as interrupted (not 404, not 500), the
runs page says so too, and one click starts the batch again."""
from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from console.app import start_console
from core.bootstrap import Core, bootstrap
from core.db.models import MatchingJob
from core.services import matching as matching_module
from core.services.matching_jobs import MAX_ATTEMPTS, STALE_AFTER_S
from core.texts import text
from tests.e2e.console.conftest import matching_worker
from tests.support.databases import throwaway_database
from tests.support.factories import approved_expert, submitted_university


class ShiftedClock:
    """The real time, plus whatever the test has let pass."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


@dataclass
class RestartableConsole:
    """The conftest's console server (same `call`/`url`), which can die and come back on the same port."""

    loop: asyncio.AbstractEventLoop
    settings: object
    clock: ShiftedClock
    core: Core | None = None
    runner: object = None
    base_url: str = ""
    port: int = 0
    stopped: list = field(default_factory=list)

    def call(self, work, *, timeout: float = 60):
        coroutine = work(self.core) if callable(work) else work
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def url(self, path: str) -> str:
        return self.base_url + path

    async def start(self) -> None:
        self.core = bootstrap(self.settings, clock=self.clock)
        await self.core.prepare()
        self.runner, self.base_url = await start_console(self.core, host="127.0.0.1", port=self.port,
                                                         secure_cookies=False)
        self.port = int(self.base_url.rsplit(":", 1)[1])

    async def die(self) -> None:
        """What a killed process leaves: no server, nothing in memory; the database stays."""
        await self.runner.cleanup()
        await self.core.close()
        self.stopped.append(self.core)

    def restart(self, *, after_s: float) -> None:
        self.call(self.die())
        self.clock.offset += timedelta(seconds=after_s)
        self.call(self.start())


@pytest.fixture
def console_server(console_backend, console_settings, tmp_path: Path) -> Iterator[RestartableConsole]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="console-server", daemon=True)
    thread.start()
    stack = contextlib.AsyncExitStack()

    async def open_database() -> str:
        return await stack.enter_async_context(throwaway_database(console_backend, tmp_path))

    try:
        url = asyncio.run_coroutine_threadsafe(open_database(), loop).result(120)
        server = RestartableConsole(loop=loop, settings=console_settings(url), clock=ShiftedClock())
        server.call(server.start(), timeout=120)
        yield server
    finally:
        try:
            async def stop() -> None:
                if server.core not in server.stopped:
                    await server.runner.cleanup()
                    await server.core.close()
                await stack.aclose()

            asyncio.run_coroutine_threadsafe(stop(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


@pytest.fixture
def slow_solver(monkeypatch):
    """The worker's solves wait until the test releases them (the worker runs in this process)."""
    real = matching_module._build_and_solve
    release = threading.Event()

    def held(*args):
        release.wait(120)
        return real(*args)

    monkeypatch.setattr(matching_module, "_build_and_solve", held)
    yield release
    release.set()


async def populate(core) -> None:
    await approved_expert(core, name="甲专家", courses=["创新思维"])
    await approved_expert(core, name="乙专家", courses=["创新管理"])
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online")},
                               university_name="第一理工大学")


async def job_rows(core) -> list[tuple[str, str | None, datetime | None, int | None]]:
    async with core.uow() as uow:
        jobs = (await uow.session.scalars(select(MatchingJob).order_by(MatchingJob.started_at))).all()
        return [(j.id, j.error, j.finished_at, j.run_id) for j in jobs]


def test_a_run_goes_on_through_a_console_restart_and_a_dead_worker_is_shown_as_interrupted(
        console_server, page, staff_account, login, slow_solver, screenshot):
    console_server.call(populate)
    coordinator = staff_account("coordinator")
    login(page, coordinator)
    # The worker is another process (the notifier's): its own core on the same database and clock.
    worker_core = bootstrap(console_server.settings, clock=console_server.clock)
    stop_worker = console_server.call(matching_worker(worker_core))
    try:
        page.goto(console_server.url("/matching"))
        page.fill("input[name=time_limit]", "3")
        page.click("button:has-text('开始匹配')")
        page.wait_for_url(re.compile(r"/matching/jobs/[0-9a-f]{32}$"))
        progress = page.url
        expect(page.locator("p.notice")).to_contain_text("正在计算中")
        expect(page.locator("p.progress")).to_contain_text("正在求解：专家 2 位，课程需求 2 项共 2 个名额", timeout=20_000)

        # A second start of the same batch while it solves is refused, with the reason and the way to the running one.
        page.goto(console_server.url("/matching"))
        page.click("button:has-text('开始匹配')")
        expect(page.locator(".error")).to_contain_text("同一批次一次只能计算一次匹配")
        expect(page.locator(".error a")).to_have_attribute("href", progress.replace(console_server.base_url, ""))

        # The console dies mid-solve and comes back (same port): the job never depended on it.
        console_server.restart(after_s=1)
        response = page.goto(progress)
        assert response.status == 200
        expect(page.locator("p.progress")).to_contain_text("正在求解")
        slow_solver.set()
        page.wait_for_url(re.compile(r"/matching/runs/\d+\?ok=run_done"), timeout=60_000)
        expect(page.locator(".flash")).to_contain_text("匹配计算完成")
        [(job_id, error, finished_at, run_id)] = console_server.call(job_rows)
        assert progress.endswith(job_id) and error is None and finished_at is not None and run_id is not None
    finally:
        console_server.call(stop_worker())
        console_server.call(worker_core.close())

    # A run whose workers all died mid-solve (no worker runs now: the test plays them).
    async def dead_workers(core) -> str:
        job = await core.matching.request_run(batch_id=(await core.batches.current()).id, staff="console:1")
        for attempt in range(MAX_ATTEMPTS):
            assert (await core.matching.jobs.claim(worker=f"dead-{attempt}")) is not None
            console_server.clock.offset += timedelta(seconds=STALE_AFTER_S + 5)
        return job.id

    job_id = console_server.call(dead_workers)
    response = page.goto(console_server.url(f"/matching/jobs/{job_id}"))
    assert response.status == 200
    expect(page.locator("h1")).to_contain_text("的匹配")
    expect(page.locator(".error")).to_contain_text("匹配计算已中断")
    expect(page.locator(".error")).to_contain_text("计算这次匹配的进程在途中停止了")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    screenshot(page, "matching_interrupted")
    rows = console_server.call(job_rows)
    assert rows[-1][0] == job_id and rows[-1][1] == text("console.run_interrupted_reason") and rows[-1][3] is None

    # The runs page says so too, with the way to it.
    page.goto(console_server.url("/matching"))
    expect(page.locator(".error.interrupted")).to_contain_text("上次的匹配计算")
    expect(page.locator(".error.interrupted a")).to_have_attribute("href", f"/matching/jobs/{job_id}")

    # One click starts the batch again; a worker solves it and the run is shown.
    stop_worker = console_server.call(matching_worker(console_server.core))
    try:
        page.goto(console_server.url(f"/matching/jobs/{job_id}"))
        page.fill("input[name=time_limit]", "3")
        page.click("button:has-text('重新开始匹配')")
        page.wait_for_url(re.compile(r"/matching/runs/\d+\?ok=run_done"), timeout=60_000)
        expect(page.locator(".flash")).to_contain_text("匹配计算完成")
    finally:
        console_server.call(stop_worker())
    rows = console_server.call(job_rows)
    assert len(rows) == 3 and rows[2][3] is not None and rows[2][2] is not None
    page.goto(console_server.url("/matching"))
    expect(page.locator(".error.interrupted")).to_have_count(0)
    expect(page.locator("table.runs tbody tr")).to_have_count(2)
