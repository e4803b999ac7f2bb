from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.settings import Settings
from core.texts import text

log = logging.getLogger("innoeng.bot")

def register(subparsers: argparse._SubParsersAction) -> None:
    bot = subparsers.add_parser("bot", help="运行 Telegram 机器人（需要 BOT_TOKEN；BOT_API_URL 指定 Bot API 地址）")
    bot.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="webhook 模式下共用 WEBHOOK_PORT 的机器人进程数（SO_REUSEPORT，需要 REDIS_URL）；默认 BOT_WORKERS 或 1。"
             "长轮询只能运行 1 个进程",
    )
    bot.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one of --workers N
    bot.set_defaults(func=_bot)
    run = subparsers.add_parser(
        "run", help="运行全部服务：机器人 + 通知 + 工作人员网页工作台 + 参与者网页版；未设置 BOT_TOKEN 时同时启动本地 Bot API 替身",
        description="运行全部服务：Telegram 机器人、通知发送（邮件与 Telegram）和工作人员网页工作台"
                    "（默认 http://127.0.0.1:8090/，由 CONSOLE_HOST / CONSOLE_PORT 设置；innoeng console 只运行工作台）。"
                    "以及参与者网页版（默认 http://127.0.0.1:8000/，由 WEB_HOST / WEB_PORT 设置；innoeng web 只运行网页版）。"
                    "未设置 BOT_TOKEN 时同时启动本地 Bot API 替身（http://127.0.0.1:8081/）。",
    )
    run.set_defaults(func=_run)


def _logging() -> None:
    from core.log_masking import configure_logging

    configure_logging(logging.INFO)


def _serve(settings: Settings, **roles: bool) -> int:
    # aiogram takes seconds to import; only the long-running commands pay for it.
    from bot.main import WebhookConfigError
    from bot.ports import PortInUse
    from innoeng.processes import serve

    try:
        asyncio.run(serve(settings, **roles))
    except (WebhookConfigError, PortInUse) as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _bot(args: argparse.Namespace) -> int:
    _logging()
    settings = Settings()
    workers = args.workers or settings.bot_workers
    if args.worker or workers == 1:
        return _serve(settings, with_bot=True, with_notifier=False, sandbox_when_no_token=False,
                      reuse_port=args.worker)
    if workers < 1:
        print("--workers 至少为 1。", file=sys.stderr)
        return 2
    if not settings.webhook_url:
        print(text("ops.polling_single_process", workers=workers), file=sys.stderr)
        return 2
    if not settings.redis_url:
        print(text("ops.workers_need_redis"), file=sys.stderr)
        return 2
    from bot.main import WebhookConfigError, webhook_secret

    try:
        webhook_secret(settings)
    except WebhookConfigError as error:
        print(error, file=sys.stderr)
        return 2
    return _supervise(settings, workers)


def _prepare_once(settings: Settings) -> None:
    """Migrations and the first batch, once, before the workers start (they would race on an empty database)."""
    from innoeng.runtime import with_core

    async def nothing(core) -> None:
        return None

    asyncio.run(with_core(nothing, settings=settings, prepare=True))


def _supervise(settings: Settings, workers: int) -> int:
    """N processes `innoeng bot --worker` on one port; one that dies is started again, the others keep serving."""
    from innoeng.supervisor import supervise

    _prepare_once(settings)
    log.info("%s bot workers share %s:%s", workers, settings.webhook_host, settings.webhook_port)
    return supervise("bot", [sys.executable, "-m", "innoeng", "bot", "--worker"], workers)


def _run(args: argparse.Namespace) -> int:
    _logging()
    return _serve(Settings(), with_bot=True, with_notifier=True, sandbox_when_no_token=True)
