"""The console in a real browser: a running console on a throwaway database, and Chromium through Playwright.

The console runs on its own event loop in a background thread, so tests use Playwright's sync API and
reach the core through `console_server.call(...)`, which runs a coroutine on the server's loop.
Tests here are plain (sync) functions.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from console.app import start_console

try:  # test modules take `expect` from here, so a missing Playwright skips (or, in CI, fails) at the fixture
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - Playwright is in the test extra
    expect = None
from core.bootstrap import Core, bootstrap
from core.domain.staff import Role
from tests.support.browser import DESKTOP, PHONE, ThreadServer, chromium, save_screenshot, serve_in_thread
from tests.support.databases import throwaway_database

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
STAFF_TELEGRAM_ID = 900001
PASSWORD = "长城-Password-2025"  # 16 characters, fine for the policy
ConsoleServer = ThreadServer


@pytest.fixture
def console_backend() -> str:
    """PostgreSQL, as the branch runs it; a test may override this fixture with "sqlite"."""
    return "postgresql"


@pytest.fixture
def console_settings(console_backend, tmp_path):
    from core.settings import Settings

    def make(database_url: str) -> Settings:
        return Settings(
            _env_file=None, database_url=database_url, data_dir=tmp_path / "data", documents_dir=tmp_path / "documents",
            default_batch_deadline=(date.today() + timedelta(days=60)).isoformat(),
            staff_telegram_ids=[STAFF_TELEGRAM_ID], staff_emails=["staff@example.org"],
        )

    return make


async def matching_worker(core):
    """Starts a matching worker on the running loop; returns what stops it."""
    from core.services.matching_worker import MatchingWorker

    stop = asyncio.Event()
    task = asyncio.ensure_future(MatchingWorker(core.matching, poll_interval_s=0.2).run(stop))

    async def stopped() -> None:
        stop.set()
        await asyncio.wait_for(task, 60)

    return stopped


@pytest.fixture
def console_server(console_backend: str, console_settings, tmp_path: Path) -> Iterator[ConsoleServer]:
    async def start(stack: contextlib.AsyncExitStack):
        url = await stack.enter_async_context(throwaway_database(console_backend, tmp_path))
        core = bootstrap(console_settings(url))
        stack.push_async_callback(core.close)
        await core.prepare()
        # The matching runs staff start are solved by a worker (in service: the notifier process's).
        stack.push_async_callback(await matching_worker(core))
        runner, base_url = await start_console(core, host="127.0.0.1", port=0, secure_cookies=False)
        stack.push_async_callback(runner.cleanup)
        return core, base_url

    with serve_in_thread(start, "console-server") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def _new_page(browser, viewport: dict[str, int]):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def page(browser):
    context, page = _new_page(browser, DESKTOP)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def phone_page(browser):
    context, page = _new_page(browser, PHONE)
    try:
        yield page
    finally:
        context.close()


@dataclass(frozen=True)
class StaffLogin:
    id: int
    email: str
    name: str
    role: Role
    password: str
    totp_secret: str | None  # set when the account has two-step verification on

    @property
    def actor(self) -> str:
        return f"console:{self.id}"


@pytest.fixture
def staff_account(console_server: ConsoleServer) -> Callable[..., StaffLogin]:
    """`staff_account("coordinator")` creates an account through the core service and sets its password.

    Admins always get TOTP (the rule); `totp=True` gives it to the others too."""
    counter = iter(range(1, 1000))

    def make(role: str | Role = "reviewer", *, name: str | None = None, email: str | None = None,
             totp: bool | None = None, telegram_id: int | None = None) -> StaffLogin:
        import pyotp

        role = Role(role)
        number = next(counter)
        name = name or {"reviewer": "王审核", "coordinator": "李协调", "admin": "赵管理"}[role.value] + (str(number) if number > 1 else "")
        email = email or f"{role.value}{number}@example.org"
        wants_totp = role is Role.ADMIN if totp is None else totp or role is Role.ADMIN

        async def create(core: Core) -> StaffLogin:
            link = await core.staff.add(email=email, name=name, role=role, actor="test")
            info = await core.staff.setup_info(token=link.token)
            code = pyotp.TOTP(info.totp_secret).now() if wants_totp else None
            await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD,
                                            enable_totp=wants_totp, totp_code=code)
            if telegram_id is not None:
                await core.staff.link_telegram(ref=str(link.account.id), telegram_id=telegram_id, actor="test")
            return StaffLogin(id=link.account.id, email=email, name=name, role=role, password=PASSWORD,
                              totp_secret=info.totp_secret if wants_totp else None)

        return console_server.call(create)

    return make


@pytest.fixture
def login(console_server: ConsoleServer) -> Callable[..., None]:
    """`login(page, account)`: signs in through the login form and waits for the dashboard."""

    def sign_in(page, account: StaffLogin, *, next_path: str | None = None) -> None:
        page.goto(console_server.url("/login" + (f"?next={next_path}" if next_path else "")))
        page.fill("input[name=email]", account.email)
        page.fill("input[name=password]", account.password)
        if account.totp_secret:
            # Each code is accepted once: a second login in the same 30 s uses the next step's code.
            page.fill("input[name=totp]", _fresh_code(console_server, account))
        page.click("button[type=submit].primary")
        page.wait_for_url(lambda url: "/login" not in url)

    return sign_in


def _fresh_code(server: ConsoleServer, account: StaffLogin) -> str:
    import pyotp
    from sqlalchemy import select

    from core.db.models import StaffAccount

    async def last_step(core: Core) -> int | None:
        async with core.uow() as uow:
            return await uow.session.scalar(select(StaffAccount.totp_last_step).where(StaffAccount.id == account.id))

    totp = pyotp.TOTP(account.totp_secret)
    used = server.call(last_step)
    while True:
        current = int(time.time()) // totp.interval
        # The server accepts one step of drift ahead: use it when the current step's code was already used.
        step = current if used is None or current > used else used + 1
        if step <= current + 1:
            return totp.at(step * totp.interval)
        time.sleep(1)


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """`screenshot(page, "dashboard")` saves tests/e2e/console/screenshots/dashboard.png (git-ignored)."""

    def save(page, name: str) -> Path:
        return save_screenshot(SCREENSHOTS, page, name)

    return save
