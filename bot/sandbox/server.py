"""The stand-in as an aiohttp application: Bot API, control API and the chat page on one port."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import AsyncIterator, Iterable

from aiohttp import web

from .botapi import SANDBOX_KEY, add_bot_api_routes
from .control import add_control_routes
from .persistence import Keeper, load
from .webhook import stop_webhooks
from .world import DEFAULT_TOKEN, Sandbox

__all__ = ["create_app", "SandboxServer", "running_sandbox", "serve_forever"]

STATIC = Path(__file__).with_name("static")
# Users may send big files (the bot must refuse > 20 MB), bots may upload 50 MB.
CLIENT_MAX_SIZE = 100 * 1024 * 1024


async def _chat_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _stop_webhooks(app: web.Application) -> None:
    await stop_webhooks(app[SANDBOX_KEY])


def create_app(sandbox: Sandbox | None = None) -> web.Application:
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    app[SANDBOX_KEY] = sandbox or Sandbox()
    add_bot_api_routes(app)
    add_control_routes(app)
    app.router.add_get("/", _chat_page)
    app.router.add_static("/static/", STATIC)
    app.on_cleanup.append(_stop_webhooks)
    return app


class SandboxServer:
    """A started stand-in; `base_url` is what TelegramAPIServer.from_base and SandboxClient take."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 tokens: Iterable[str] = (DEFAULT_TOKEN,), *, resumable: bool = False,
                 state_file: Path | None = None) -> None:
        """resumable: the bot keeps its data across the stand-in's restarts (`innoeng run`, `innoeng sandbox`),
        so the stand-in keeps its chats too, in `state_file` (if given; the callers pass
        default_state_file(DATA_DIR, port)), and a new chat's message ids start from the clock rather than from 1."""
        self.host = host
        self.port = port
        self.sandbox = Sandbox(tuple(tokens), resumable=resumable)
        self.state_file = state_file if resumable else None
        self._keeper: Keeper | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        return next(iter(self.sandbox.bots))

    async def start(self) -> "SandboxServer":
        if self.state_file is not None and self._keeper is None:
            load(self.sandbox, self.state_file)  # before the port opens: no request sees an empty stand-in
            self._keeper = Keeper(self.sandbox, self.state_file)
        # handler_cancellation: a bot that stops polling must not leave a long poll hanging forever
        self._runner = web.AppRunner(create_app(self.sandbox), handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:  # e.g. the port is taken: leave nothing half set up
            await self._runner.cleanup()
            self._runner = None
            raise
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        if self._keeper is not None:
            self._keeper.start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._keeper is not None:  # after the last request: what it changed is kept too
            await self._keeper.stop()
            self._keeper = None


@contextlib.asynccontextmanager
async def running_sandbox(host: str = "127.0.0.1", port: int = 0,
                          tokens: Iterable[str] = (DEFAULT_TOKEN,)) -> AsyncIterator[str]:
    """Run the stand-in in this event loop; yields its base URL (port 0 picks a free port)."""
    server = await SandboxServer(host, port, tokens).start()
    try:
        yield server.base_url
    finally:
        await server.stop()


async def serve_forever(host: str, port: int, tokens: Iterable[str], *, state_file: Path | None = None) -> None:
    server = await SandboxServer(host, port, tokens, resumable=True, state_file=state_file).start()
    print(f"Bot API stand-in on {server.base_url}  (chat page: {server.base_url}/ )", flush=True)
    for token in server.sandbox.bots:
        print(f"  bot token: {token}", flush=True)
    print(f"  BOT_API_URL={server.base_url}", flush=True)
    if server.state_file is not None:
        print(f"  chats kept across restarts in {server.state_file}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
