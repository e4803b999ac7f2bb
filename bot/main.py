"""The bot process: dispatcher, storage, middlewares, commands, and the polling or webhook loop."""
from __future__ import annotations

import asyncio
import hmac
import logging
import re
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.types import BotCommand, BotCommandScopeChat, ErrorEvent
from aiohttp import web

from bot.commands import STAFF_COMMANDS, USER_COMMANDS
from bot.middlewares import UpdateContext
from bot.ports import listening
from bot.ordering import ChatQueueIsolation, MemoryWatermarks, MessageOrderGuard, RedisWatermarks, Watermarks
from bot.routers import build_router
from bot.routers.staff_matching import report_matching_runs
from bot.storage import SQLStorage
from core.bootstrap import Core
from core.settings import Settings
from core.texts import text

__all__ = [
    "build_dispatcher", "run_polling", "run_webhook", "set_commands", "webhook_secret", "WebhookConfigError",
    "USER_COMMANDS", "STAFF_COMMANDS", "WEBHOOK_PATH", "HEALTH_PATH",
]

log = logging.getLogger(__name__)



def _storage(core: Core) -> tuple[BaseStorage, BaseEventIsolation, Watermarks]:
    """Dialog state, the per-chat order (see bot/ordering.py) and the per-chat message watermark."""
    if core.settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        storage = RedisStorage.from_url(core.settings.redis_url)
        return storage, ChatQueueIsolation(storage.redis), RedisWatermarks(storage.redis)
    # One process: dialog state in the same database, each chat's order in this process's memory.
    return SQLStorage(core.uow), ChatQueueIsolation(), MemoryWatermarks()


def build_dispatcher(core: Core) -> Dispatcher:
    storage, isolation, watermarks = _storage(core)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        core=core,
        staff_ids=frozenset(core.settings.staff_telegram_ids),
    )
    dispatcher.update.outer_middleware(UpdateContext(core.updates))
    # After aiogram's FSM middleware, whose isolation lock (ChatQueueIsolation) it runs under.
    dispatcher.update.outer_middleware(MessageOrderGuard(watermarks))
    dispatcher.include_router(build_router())
    dispatcher.errors.register(_on_error)
    return dispatcher


async def _on_error(event: ErrorEvent, bot: Bot) -> bool:
    """Nothing reaches a person as a stack trace: they get an apology, staff get the log line."""
    update = event.update
    log.exception("update %s failed: %r", update.update_id, event.exception, exc_info=event.exception)
    chat_id = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None and update.callback_query.message is not None:
        chat_id = update.callback_query.message.chat.id
    if chat_id is not None:
        try:
            await bot.send_message(chat_id, text("bot.error"))
        except Exception:  # the apology itself failing must not hide the original error
            log.exception("could not tell chat %s about the failure", chat_id)
    return True


async def set_commands(bot: Bot, staff_ids: frozenset[int]) -> None:
    user = [BotCommand(command=c, description=d) for c, d in USER_COMMANDS]
    await bot.set_my_commands(user)
    staff = user + [BotCommand(command=c, description=d) for c, d in STAFF_COMMANDS]
    for staff_id in staff_ids:
        try:
            await bot.set_my_commands(staff, scope=BotCommandScopeChat(chat_id=staff_id))
        except Exception as error:  # a staff member who never opened the chat cannot get a scoped menu
            log.warning("could not set staff commands for %s: %s", staff_id, error)


async def run_polling(core: Core, bot: Bot, stop: asyncio.Event) -> None:
    dispatcher = build_dispatcher(core)
    await bot.delete_webhook(drop_pending_updates=False)
    await set_commands(bot, frozenset(core.settings.staff_telegram_ids))
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, polling_timeout=10,
            tasks_concurrency_limit=core.settings.bot_max_concurrent_updates,
        )
    )
    reports = asyncio.create_task(report_matching_runs(core, bot, stop))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        await dispatcher.stop_polling()
    try:
        await polling
    finally:
        stopper.cancel()
        reports.cancel()
        await asyncio.gather(reports, return_exceptions=True)
    await dispatcher.storage.close()


# Telegram's rule for secret_token; shorter than 16 characters is too easy to guess.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
WEBHOOK_PATH = "/telegram/webhook"
HEALTH_PATH = "/healthz"


def webhook_secret(settings: Settings) -> str:
    """The secret Telegram must send with every update; webhook mode refuses to start without a usable one."""
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise WebhookConfigError(text("ops.webhook_secret_missing"))
    secret = settings.webhook_secret.get_secret_value()
    if not _SECRET.match(secret):
        raise WebhookConfigError(text("ops.webhook_secret_invalid", min=16))
    return secret


class WebhookConfigError(ValueError):
    """Webhook settings that must not be served (the message says what to change)."""


def _secret_checked(handler: Any, secret: str, at_once: int) -> Any:
    """Only Telegram knows the secret: a request without it is refused before its body is read.

    At most `at_once` updates are handled at a time (BOT_MAX_CONCURRENT_UPDATES, as in polling); Telegram's
    other connections wait their turn, first come first served, instead of exhausting the database pool."""
    expected = secret.encode()
    slots = asyncio.Semaphore(at_once)

    async def checked(request: web.Request) -> web.StreamResponse:
        sent = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        # Bytes, so that any header value is compared in constant time (str needs ASCII).
        if sent is None or not hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected):
            log.warning("webhook: refused a request from %s (%s secret header; body not read)",
                        request.remote, "no" if sent is None else "wrong")
            return web.Response(status=401, text="Unauthorized")
        async with slots:
            return await handler(request)

    return checked


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def run_webhook(core: Core, bot: Bot, stop: asyncio.Event, *, reuse_port: bool = False) -> None:
    """Serves Telegram's webhook; with reuse_port several processes share the port (SO_REUSEPORT)."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    settings = core.settings
    secret = webhook_secret(settings)
    dispatcher = build_dispatcher(core)
    app = web.Application()
    # handle_in_background=False: Telegram gets its answer once the update is handled and committed, and only
    # then sends that chat's next update (bot/ordering.py, point 1). The secret is checked before aiogram.
    requests = SimpleRequestHandler(dispatcher=dispatcher, bot=bot, handle_in_background=False)
    app.router.add_post(WEBHOOK_PATH, _secret_checked(requests.handle, secret, settings.bot_max_concurrent_updates))
    app.router.add_get(HEALTH_PATH, _healthy)
    setup_application(app, dispatcher, bot=bot)
    # A stopping worker gives open updates a few seconds; Telegram resends what it never got an answer to.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port, reuse_port=reuse_port or None)
    await listening(site.start(), host=settings.webhook_host, port=settings.webhook_port, setting="WEBHOOK_PORT")
    await set_commands(bot, frozenset(settings.staff_telegram_ids))
    await bot.set_webhook(settings.webhook_url, secret_token=secret, drop_pending_updates=False,
                          max_connections=settings.webhook_max_connections)
    log.info("webhook listening on %s:%s%s", settings.webhook_host, settings.webhook_port,
             " (port shared with the other workers)" if reuse_port else "")
    # The outcome of each matching run asked for from a chat is posted there when its job finishes.
    reports = asyncio.create_task(report_matching_runs(core, bot, stop))
    try:
        await stop.wait()
    finally:
        reports.cancel()
        await asyncio.gather(reports, return_exceptions=True)
        await runner.cleanup()
