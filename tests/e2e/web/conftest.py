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
# The web runs on its own event loop in a background thread (tests.support.browser); tests use Playwright's
# sync API and reach the core through `web_server.call(...)`. Browser tests are plain (sync) functions marked
# `browser`.

import contextlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from core.bootstrap import bootstrap  # noqa: E402
from tests.support.browser import DESKTOP, PHONE, ThreadServer, chromium, save_screenshot, serve_in_thread  # noqa: E402
from tests.support.databases import throwaway_database  # noqa: E402

__all__ = ["DESKTOP", "PHONE", "SCREENSHOTS", "WECHAT_UA", "WebServer"]

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")
WebServer = ThreadServer


@pytest.fixture
def web_backend() -> str:
    """PostgreSQL, as the branch runs it; a test may override this fixture with "sqlite"."""
    return "postgresql"


@pytest.fixture
def web_server(web_backend: str, tmp_path: Path) -> Iterator[WebServer]:
    from core.services.signin import SignInPolicy, SignInService
    from core.settings import Settings
    from web.app import start_web

    async def start(stack: contextlib.AsyncExitStack):
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
        return core, base_url

    with serve_in_thread(start, "web-server") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


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

    def save(page, name: str) -> Path:
        return save_screenshot(SCREENSHOTS, page, name)

    return save
