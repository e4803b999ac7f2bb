"""`innoeng console`: the staff web console, until SIGINT or SIGTERM."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from innoeng.runtime import run_with_core

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    console = subparsers.add_parser("console", help="运行工作人员网页工作台（默认 http://127.0.0.1:8090），Ctrl+C 停止")
    console.add_argument("--host", help="监听地址（默认 CONSOLE_HOST）")
    console.add_argument("--port", type=int, help="端口（默认 CONSOLE_PORT）")
    console.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from core.log_masking import configure_logging

    configure_logging(logging.INFO)

    async def action(core):
        from console.app import start_console

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        settings = core.settings
        runner, address = await start_console(core, host=args.host or settings.console_host,
                                              port=args.port if args.port is not None else settings.console_port)
        try:
            print(f"工作台已启动：在浏览器打开 {address}/ 登录。新建账号：innoeng staff add 邮箱 --name 姓名 --role admin",
                  flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()

    run_with_core(action)
    return 0
