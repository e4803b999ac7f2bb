"""`innoeng web`: the participants' web pages, until SIGINT or SIGTERM."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from innoeng.runtime import run_with_core

__all__ = ["register", "web_address_line"]


def register(subparsers: argparse._SubParsersAction) -> None:
    web = subparsers.add_parser("web", help="运行参与者网页版（默认 http://127.0.0.1:8000），Ctrl+C 停止")
    web.add_argument("--host", help="监听地址（默认 WEB_HOST）")
    web.add_argument("--port", type=int, help="端口（默认 WEB_PORT）")
    web.set_defaults(func=_run)


def web_address_line(address: str, settings) -> str:
    line = f"参与者网页版：在手机或电脑浏览器打开 {address}/ 申请。"
    if not settings.smtp_host:
        line += f"没有设置 SMTP_HOST：登录验证码和通知邮件在本机邮箱 {address}/_mailbox 查看（仅本机可打开）。"
    return line


def _run(args: argparse.Namespace) -> int:
    from core.log_masking import configure_logging

    configure_logging(logging.INFO)

    async def action(core):
        from web.app import start_web

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        settings = core.settings
        runner, address = await start_web(core, host=args.host or settings.web_host,
                                          port=args.port if args.port is not None else settings.web_port)
        try:
            print(web_address_line(address, settings), flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()

    run_with_core(action)
    return 0
