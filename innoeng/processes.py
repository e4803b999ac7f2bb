"""Long-running processes: the bot, the notifier, and the stand-in, alone or together."""
from __future__ import annotations

import asyncio
import gc
import contextlib
import logging
import signal

from aiogram import Bot

from bot.factory import create_bot
from bot.main import run_polling, run_webhook, webhook_secret
from bot.ports import listening
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


async def serve(settings: Settings, *, with_bot: bool, with_notifier: bool, sandbox_when_no_token: bool,
                reuse_port: bool = False, with_console: bool | None = None) -> None:
    # The staff console comes with the whole service (`innoeng run`: bot and notifier together).
    if with_console is None:
        with_console = with_bot and with_notifier
    if with_bot and settings.webhook_url:
        webhook_secret(settings)  # refuses before anything starts
    stop = asyncio.Event()
    _stop_on_signals(stop)
    core = bootstrap(settings)
    sandbox = None
    console_runner = None
    web_runner = None
    bot: Bot | None = None
    try:
        await core.prepare()
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        api_url = settings.bot_api_url
        if token is None and sandbox_when_no_token:
            from bot.sandbox import DEFAULT_TOKEN, SandboxServer
            from bot.sandbox.persistence import default_state_file

            sandbox = await listening(
                SandboxServer(settings.sandbox_host, settings.sandbox_port, (DEFAULT_TOKEN,), resumable=True,
                              state_file=default_state_file(settings.data_dir, settings.sandbox_port)).start(),
                host=settings.sandbox_host, port=settings.sandbox_port, setting="SANDBOX_PORT",
            )
            token, api_url = DEFAULT_TOKEN, sandbox.base_url
            print(f"没有设置 BOT_TOKEN：已启动本地 Bot API 替身。在浏览器打开 {sandbox.base_url}/ 与机器人对话。", flush=True)
        if token is not None:
            bot = create_bot(token, api_url)
        # What is built by now (modules, pydantic schemas, SQLAlchemy mappers) lives as long as the process.
        # Frozen, the cyclic collector stops rescanning it: a full collection over it cost ~0.15 s, several
        # times a minute under load, in the bot's profile.
        gc.freeze()
        tasks = []
        if with_bot:
            if bot is None:
                raise SystemExit("BOT_TOKEN 未设置。请设置 BOT_TOKEN，或使用 `innoeng run` 在本地替身上运行。")
            if settings.webhook_url:
                runner = run_webhook(core, bot, stop, reuse_port=reuse_port)
            else:
                runner = run_polling(core, bot, stop)
            tasks.append(asyncio.create_task(runner, name="bot"))
        if with_notifier:
            tasks.append(asyncio.create_task(run_notifier(core, bot=bot, stop=stop), name="notifier"))
        if with_console:
            console_runner = await _start_console(core, settings)
            web_runner = await _start_web(core, settings)
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
        if console_runner is not None:
            await console_runner.cleanup()
        if web_runner is not None:
            await web_runner.cleanup()
        if bot is not None:
            await bot.session.close()
        if sandbox is not None:
            await sandbox.stop()
        await core.close()


async def _start_console(core, settings: Settings):
    """Starts the staff console; a busy port leaves the rest of the service running, with the reason shown."""
    from console.app import start_console

    try:
        runner, address = await start_console(core, host=settings.console_host, port=settings.console_port)
    except OSError as error:
        print(f"工作台未启动：无法监听 {settings.console_host}:{settings.console_port}（{error.strerror or error}）。"
              f"请设置 CONSOLE_PORT 为空闲端口后重新启动。", flush=True)
        return None
    print(f"工作人员网页工作台：在浏览器打开 {address}/ 登录（新建账号：innoeng staff add 邮箱 --name 姓名 --role admin）。",
          flush=True)
    return runner


async def _start_web(core, settings: Settings):
    """Starts the participants' web pages beside the console; a busy port leaves the rest running."""
    from innoeng.commands.web import web_address_line
    from web.app import start_web

    try:
        runner, address = await start_web(core, host=settings.web_host, port=settings.web_port)
    except OSError as error:
        print(f"参与者网页版未启动：无法监听 {settings.web_host}:{settings.web_port}（{error.strerror or error}）。"
              f"请设置 WEB_PORT 为空闲端口后重新启动。", flush=True)
        return None
    print(web_address_line(address, settings), flush=True)
    return runner
