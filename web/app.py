"""The participants' web application, composed from the same Core as the bot, the console and the notifier."""
from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path

from aiohttp import web

from core.bootstrap import Core
from web.handoff import PageHandoffs
from web.keys import CORE, EMAILS, HANDOFFS, SECURE
from web.mailbox import email_environment
from web.rendering import setup_templates
from web.routes import ROUTE_MODULES
from web.security import FORM_SLACK_BYTES, middlewares

__all__ = ["create_app", "start_web", "run_web", "STATIC_DIR"]

log = logging.getLogger("innoeng.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(core: Core, *, secure: bool | None = None) -> web.Application:
    settings = core.settings
    if secure is None:
        secure = (settings.web_base_url or "").lower().startswith("https://")
    # An upload is read only up to this size: a bigger body is refused while it arrives, not after.
    max_body = settings.max_upload_mb * 1024 * 1024 + FORM_SLACK_BYTES
    app = web.Application(middlewares=list(middlewares), client_max_size=max_body)
    app[CORE] = core
    app[SECURE] = secure
    app[EMAILS] = email_environment()
    app[HANDOFFS] = PageHandoffs()
    setup_templates(app)
    for name in ROUTE_MODULES:
        app.add_routes(importlib.import_module(f"web.routes.{name}").routes)
    app.router.add_static("/static/", STATIC_DIR, append_version=True, name="static")
    return app


async def start_web(core: Core, *, host: str, port: int, reuse_port: bool = False) -> tuple[web.AppRunner, str]:
    """Starts serving; returns the runner (to clean up) and the address it listens on (port 0 picks one).

    reuse_port: several processes listen on the same port (SO_REUSEPORT, `innoeng web --workers N`); the kernel
    spreads the connections over them."""
    runner = web.AppRunner(create_app(core), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://{host}:{bound_port}"


async def run_web(core: Core, stop: asyncio.Event, *, host: str, port: int) -> None:
    runner, address = await start_web(core, host=host, port=port)
    log.info("web listening on %s", address)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
