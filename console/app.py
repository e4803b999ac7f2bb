"""The console's aiohttp application, composed from the same Core as the bot and the notifier."""
from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path

from aiohttp import web

from console.auth import middlewares
from console.keys import CORE, SECURE_COOKIES, STAFF
from console.rendering import setup_templates
from console.routes import ROUTE_MODULES
from core.bootstrap import Core

__all__ = ["CORE", "STAFF", "create_app", "run_console", "start_console", "STATIC_DIR"]

log = logging.getLogger("innoeng.console")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Certificate scans are uploaded through the bot, not here; forms are small.
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(core: Core, *, secure_cookies: bool = False) -> web.Application:
    app = web.Application(middlewares=list(middlewares), client_max_size=MAX_REQUEST_BYTES)
    app[CORE] = core
    app[SECURE_COOKIES] = secure_cookies
    setup_templates(app, zone_name=core.settings.timezone)
    for name in ROUTE_MODULES:
        app.add_routes(importlib.import_module(f"console.routes.{name}").routes)
    app.router.add_static("/static/", STATIC_DIR, append_version=True)
    return app


async def start_console(core: Core, *, host: str, port: int, secure_cookies: bool | None = None) -> tuple[web.AppRunner, str]:
    """Starts serving; returns the runner (to clean up) and the address it listens on (port 0 picks one)."""
    secure = core.settings.console_secure_cookies if secure_cookies is None else secure_cookies
    runner = web.AppRunner(create_app(core, secure_cookies=secure), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://{host}:{bound_port}"


async def run_console(core: Core, stop: asyncio.Event, *, host: str, port: int) -> None:
    runner, address = await start_console(core, host=host, port=port)
    log.info("console listening on %s", address)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
