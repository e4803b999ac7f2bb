from __future__ import annotations

import argparse
import asyncio
import logging

from core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    bot = subparsers.add_parser("bot", help="运行 Telegram 机器人（需要 BOT_TOKEN；BOT_API_URL 指定 Bot API 地址）")
    bot.set_defaults(func=_bot)
    run = subparsers.add_parser("run", help="运行全部服务：机器人 + 通知；未设置 BOT_TOKEN 时同时启动本地 Bot API 替身")
    run.set_defaults(func=_run)


def _logging() -> None:
    from core.log_masking import configure_logging

    configure_logging(logging.INFO)


def _serve(**roles: bool) -> None:
    # aiogram takes seconds to import; only the long-running commands pay for it.
    from innoeng.processes import serve

    asyncio.run(serve(Settings(), **roles))


def _bot(args: argparse.Namespace) -> int:
    _logging()
    _serve(with_bot=True, with_notifier=False, sandbox_when_no_token=False)
    return 0


def _run(args: argparse.Namespace) -> int:
    _logging()
    _serve(with_bot=True, with_notifier=True, sandbox_when_no_token=True)
    return 0
