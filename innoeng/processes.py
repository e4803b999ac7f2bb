"""Long-running processes: the bot, the notifier, and the stand-in, alone or together."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot

from bot.factory import create_bot
from bot.main import run_polling, run_webhook
from core.bootstrap import bootstrap
from core.settings import Settings
from notifier.main import run_notifier

__all__ = ["serve"]

log = logging.getLogger("innoeng")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


async def serve(settings: Settings, *, with_bot: bool, with_notifier: bool, sandbox_when_no_token: bool) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    core = bootstrap(settings)
    sandbox = None
    bot: Bot | None = None
    try:
        await core.prepare()
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        api_url = settings.bot_api_url
        if token is None and sandbox_when_no_token:
            from bot.sandbox import DEFAULT_TOKEN, SandboxServer

            sandbox = await SandboxServer(settings.sandbox_host, settings.sandbox_port, (DEFAULT_TOKEN,)).start()
            token, api_url = DEFAULT_TOKEN, sandbox.base_url
            print(f"没有设置 BOT_TOKEN：已启动本地 Bot API 替身。在浏览器打开 {sandbox.base_url}/ 与机器人对话。", flush=True)
        if token is not None:
            bot = create_bot(token, api_url)
        tasks = []
        if with_bot:
            if bot is None:
                raise SystemExit("BOT_TOKEN 未设置。请设置 BOT_TOKEN，或使用 `innoeng run` 在本地替身上运行。")
            runner = run_webhook if settings.webhook_url else run_polling
            tasks.append(asyncio.create_task(runner(core, bot, stop), name="bot"))
        if with_notifier:
            tasks.append(asyncio.create_task(run_notifier(core, bot=bot, stop=stop), name="notifier"))
        print("innoeng 正在运行，按 Ctrl+C 停止。", flush=True)
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop.set()
        for task in done:
            if task.exception() is not None:
                log.error("%s stopped: %r", task.get_name(), task.exception())
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        if bot is not None:
            await bot.session.close()
        if sandbox is not None:
            await sandbox.stop()
        await core.close()
