"""The web channel over HTTP: aiohttp's test client against the app built on the `core` fixture (both databases)."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from web.app import create_app


@pytest.fixture
async def client(core) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(core))) as test_client:
        yield test_client


@pytest.fixture
async def other_client(core) -> AsyncIterator[TestClient]:
    """A second browser (another phone) on the same server."""
    async with TestClient(TestServer(create_app(core))) as test_client:
        yield test_client


# ---------------------------------------------------------------- a real browser (Playwright, Debian's Chromium)
#
# The web runs on its own event loop in a background thread; tests use Playwright's sync API and reach the
# core through `web_server.call(...)`. Browser tests are plain (sync) functions marked `browser`.

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TypeVar  # noqa: E402

from core.bootstrap import Core, bootstrap  # noqa: E402
from tests.support.databases import throwaway_database  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")
T = TypeVar("T")


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@dataclass
class WebServer:
    base_url: str
    core: Core
    loop: asyncio.AbstractEventLoop

    def call(self, work: Awaitable[T] | Callable[[Core], Awaitable[T]], *, timeout: float = 60) -> T:
        coroutine = work(self.core) if callable(work) else work
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def web_backend() -> str:
    """PostgreSQL, as the branch runs it; a test may override this fixture with "sqlite"."""
    return "postgresql"


@pytest.fixture
def web_server(web_backend: str, tmp_path: Path) -> Iterator[WebServer]:
    from core.services.signin import SignInPolicy, SignInService
    from core.settings import Settings
    from web.app import start_web

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="web-server", daemon=True)
    thread.start()
    stack = contextlib.AsyncExitStack()

    async def start() -> WebServer:
        url = await stack.enter_async_context(throwaway_database(web_backend, tmp_path))
        settings = Settings(
            _env_file=None, database_url=url, data_dir=tmp_path / "data", documents_dir=tmp_path / "documents",
            default_batch_deadline=(date.today() + timedelta(days=60)).isoformat(),
            staff_telegram_ids=[900001], staff_emails=["staff@example.org"],
        )
        core = bootstrap(settings)
        # A person signs in on a second phone within the minute: no wait between codes in these tests.
        core.signin = SignInService(uow=core.uow, clock=core.clock, policy=SignInPolicy(resend_after=timedelta(0)))
        stack.push_async_callback(core.close)
        await core.prepare()
        runner, base_url = await start_web(core, host="127.0.0.1", port=0)
        stack.push_async_callback(runner.cleanup)
        return WebServer(base_url=base_url, core=core, loop=loop)

    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(120)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _missing(f"Playwright is not installed ({error}): pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_phone(browser):
    """`new_phone()` opens a fresh WeChat-sized browser context (its own cookies) and returns its page."""
    contexts = []

    def make(viewport: dict[str, int] = PHONE, user_agent: str | None = WECHAT_UA):
        context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      user_agent=user_agent, is_mobile=viewport is PHONE, has_touch=viewport is PHONE,
                                      device_scale_factor=2 if viewport is PHONE else 1)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def shoot():
    """`shoot(page, "review")` saves a full-page PNG into tests/e2e/web/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
