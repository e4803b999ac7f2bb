"""`innoeng notifier`: the outbox worker and the reminder/digest scheduler, until SIGINT or SIGTERM."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from innoeng.runtime import run_with_core

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    notifier = subparsers.add_parser("notifier", help="运行通知发送进程（邮件、Telegram、短信、提醒、日报），Ctrl+C 停止")
    notifier.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from core.log_masking import configure_logging

    configure_logging(logging.INFO)

    async def action(core):
        from notifier.main import run_notifier

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(signum, stop.set)
        bot = None
        settings = core.settings
        if settings.bot_token is not None:
            from bot.factory import create_bot

            bot = create_bot(settings.bot_token.get_secret_value(), settings.bot_api_url)
        where = settings.smtp_host or f"{settings.data_dir / 'outbox'}（.eml 文件）"
        sms = ("阿里云短信" if settings.sms_provider == "aliyun"
               else f"模拟（{settings.data_dir / 'outbox' / 'sms.jsonl'}，未配置 SMS_PROVIDER）")
        print(f"通知进程已启动：邮件 → {where}；Telegram → {'已启用' if bot else '未配置 BOT_TOKEN，Telegram 通知暂缓'}"
              f"；短信 → {sms}", flush=True)
        try:
            await run_notifier(core, bot=bot, stop=stop)
        finally:
            if bot is not None:
                await bot.session.close()

    run_with_core(action)
    return 0
