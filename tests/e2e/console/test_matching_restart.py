"""A console that stops while a matching run solves: after the restart the progress page says the run was
interrupted (not 404, not 500), the runs page says so too, and one click starts the batch again."""
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
from console.routes import matching as matching_pages
from core.bootstrap import Core, bootstrap
from core.db.models import MatchingJob
from core.services.matching_jobs import STALE_AFTER_S
from core.texts import text
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
        """What a killed process leaves: no server, no heartbeat, nothing in memory; the database stays."""
        for task in list(matching_pages._followers.values()):
            task.cancel()
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
                for task in list(matching_pages._followers.values()):
                    task.cancel()
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
def solver_stuck_once(monkeypatch):
    """The first solve is still running when the console dies (it never returns); later ones solve for real."""
    real = matching_pages._solve_on_own_loop
    release = threading.Event()
    calls = []

    def solve(*args):
        calls.append(args)
        if len(calls) == 1:
            release.wait(120)
            return None
        return real(*args)

    monkeypatch.setattr(matching_pages, "_solve_on_own_loop", solve)
    yield calls
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


def test_a_run_interrupted_by_a_console_restart_is_shown_as_interrupted_and_started_again(
        console_server, page, staff_account, login, solver_stuck_once, screenshot):
    console_server.call(populate)
    coordinator = staff_account("coordinator")
    login(page, coordinator)

    page.goto(console_server.url("/matching"))
    page.fill("input[name=time_limit]", "3")
    page.click("button:has-text('开始匹配')")
    page.wait_for_url(re.compile(r"/matching/jobs/[0-9a-f]{32}$"))
    progress = page.url
    expect(page.locator("p.notice")).to_contain_text("正在计算中")

    # A second start of the same batch while it solves is refused, with the reason and the way to the running one.
    page.goto(console_server.url("/matching"))
    page.click("button:has-text('开始匹配')")
    expect(page.locator(".error")).to_contain_text("同一批次一次只能计算一次匹配")
    expect(page.locator(".error a")).to_have_attribute("href", progress.replace(console_server.base_url, ""))

    # The console dies mid-solve and comes back once the heartbeat is stale (same port: the same address).
    console_server.restart(after_s=STALE_AFTER_S + 5)
    response = page.goto(progress)
    assert response.status == 200
    expect(page.locator("h1")).to_contain_text("的匹配")
    expect(page.locator(".error")).to_contain_text("匹配计算已中断")
    expect(page.locator(".error")).to_contain_text("计算这次匹配的进程在途中停止了")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    screenshot(page, "matching_interrupted")
    [(job_id, error, finished_at, run_id)] = console_server.call(job_rows)
    assert progress.endswith(job_id) and error == text("console.run_interrupted_reason")
    assert finished_at is None and run_id is None

    # The runs page says so too, with the way to it.
    page.goto(console_server.url("/matching"))
    expect(page.locator(".error.interrupted")).to_contain_text("上次的匹配计算")
    expect(page.locator(".error.interrupted a")).to_have_attribute("href", f"/matching/jobs/{job_id}")

    # One click starts the batch again; this time the solve finishes and the run is shown.
    page.goto(progress)
    page.fill("input[name=time_limit]", "3")
    page.click("button:has-text('重新开始匹配')")
    page.wait_for_url(re.compile(r"/matching/runs/\d+\?ok=run_done"), timeout=60_000)
    expect(page.locator(".flash")).to_contain_text("匹配计算完成")
    rows = console_server.call(job_rows)
    assert len(rows) == 2 and rows[1][3] is not None and rows[1][2] is not None
    page.goto(console_server.url("/matching"))
    expect(page.locator(".error.interrupted")).to_have_count(0)
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
