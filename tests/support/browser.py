"""What the browser tests of the web and of the console share: Debian's Chromium through Playwright, and a
server on its own event loop in a background thread (tests use Playwright's sync API and reach the core
through `server.call(...)`, which runs a coroutine on the server's loop)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from core.bootstrap import Core

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "DESKTOP", "PHONE", "ThreadServer", "chromium", "missing", "save_screenshot",
           "serve_in_thread"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
T = TypeVar("T")


def missing(reason: str) -> None:
    """A browser test cannot run: skipped on a developer's machine, a failure with CI=true."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@dataclass
class ThreadServer:
    base_url: str
    core: Core
    loop: asyncio.AbstractEventLoop

    def call(self, work: Awaitable[T] | Callable[[Core], Awaitable[T]], *, timeout: float = 60) -> T:
        """Runs a coroutine (or `lambda core: coroutine`) on the server's loop and returns its result."""
        coroutine = work(self.core) if callable(work) else work
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def url(self, path: str) -> str:
        return self.base_url + path


@contextlib.contextmanager
def serve_in_thread(start: Callable[[contextlib.AsyncExitStack], Awaitable[tuple[Core, str]]],
                    name: str) -> Iterator[ThreadServer]:
    """`start(stack)` runs on a new loop in a background thread, pushes its cleanups onto `stack` and returns
    the core and the server's base URL; everything is closed on the same loop afterwards."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
    thread.start()
    stack = contextlib.AsyncExitStack()

    async def started() -> ThreadServer:
        core, base_url = await start(stack)
        return ThreadServer(base_url=base_url, core=core, loop=loop)

    try:
        yield asyncio.run_coroutine_threadsafe(started(), loop).result(120)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


def chromium():
    """Debian's Chromium, launched headless for the module (a generator for a module-scoped fixture)."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        missing(f"Playwright is not installed ({error}): pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def save_screenshot(folder: Path, page, name: str) -> Path:
    """A full-page PNG of `page` in `folder` (the screenshots folders are git-ignored)."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
