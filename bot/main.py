"""The bot process: dispatcher, storage, middlewares, commands, and the polling or webhook loop."""
from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeChat, ErrorEvent
from aiohttp import web

from bot.middlewares import UpdateContext
from bot.routers import build_router
from bot.storage import SQLStorage
from core.bootstrap import Core
from core.texts import text

__all__ = ["build_dispatcher", "run_polling", "run_webhook", "set_commands", "USER_COMMANDS", "STAFF_COMMANDS"]

log = logging.getLogger(__name__)

USER_COMMANDS = (
    ("start", "开始或继续填写"),
    ("status", "查看申请和匹配状态"),
    ("candidates", "高校：查看推荐的专家人选"),
    ("edit", "修改草稿或补充材料"),
    ("withdraw", "撤回申请"),
    ("mydata", "导出我的全部数据"),
    ("delete", "删除我的全部数据"),
    ("cancel", "暂停填写"),
    ("help", "帮助"),
)
STAFF_COMMANDS = (
    ("pending", "待审核的申请"),
    ("stats", "统计"),
    ("match", "运行双向匹配"),
    ("publicity", "公示名单"),
    ("objection", "登记公示异议"),
    ("agreement", "登记协议"),
    ("filing", "登记备案"),
    ("filingexport", "导出备案表"),
    ("caplift", "放宽受聘高校数上限"),
    ("newevent", "创建活动"),
    ("events", "活动与报名统计"),
)


def _storage(core: Core) -> tuple[BaseStorage, BaseEventIsolation]:
    if core.settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(core.settings.redis_url)
        return storage, RedisEventIsolation(storage.redis)
    # One process on SQLite: dialog state in the same database, ordering per user in memory.
    return SQLStorage(core.uow), SimpleEventIsolation()


def build_dispatcher(core: Core) -> Dispatcher:
    storage, isolation = _storage(core)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        core=core,
        staff_ids=frozenset(core.settings.staff_telegram_ids),
    )
    dispatcher.update.outer_middleware(UpdateContext(core.updates))
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
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        await dispatcher.stop_polling()
    await polling
    stopper.cancel()
    await dispatcher.storage.close()


async def run_webhook(core: Core, bot: Bot, stop: asyncio.Event) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    settings = core.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    dispatcher = build_dispatcher(core)
    app = web.Application()
    # aiogram answers 401 when the X-Telegram-Bot-Api-Secret-Token header does not match.
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(app, path="/telegram/webhook")
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    await set_commands(bot, frozenset(settings.staff_telegram_ids))
    await bot.set_webhook(settings.webhook_url, secret_token=secret, drop_pending_updates=False)
    log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
