"""`innoeng web`: the participants' web pages, until SIGINT or SIGTERM.

`innoeng web --workers N` runs N processes on one port (SO_REUSEPORT: the kernel spreads the connections over
them) under a supervisor that starts again a worker that dies, as `innoeng bot --workers N` does. The processes
share nothing but the database: sessions, sign-in codes and throttles live there, so a person's requests may
reach any of them."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import logging
import os
import signal
import socket
import sys
import time

from innoeng.runtime import run_with_core

__all__ = ["register", "web_address_line"]

log = logging.getLogger("innoeng.web")

# How long the supervisor waits for the first worker to accept connections before it prints the address.
_READY_TIMEOUT_S = 60.0


def register(subparsers: argparse._SubParsersAction) -> None:
    web = subparsers.add_parser("web", help="运行参与者网页版（默认 http://127.0.0.1:8000），Ctrl+C 停止")
    web.add_argument("--host", help="监听地址（默认 WEB_HOST）")
    web.add_argument("--port", type=int, help="端口（默认 WEB_PORT）")
    web.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="共用同一端口的网页进程数（SO_REUSEPORT；会话、验证码和限流都在数据库中，进程之间不共享别的）；"
             "某个进程退出时自动重新启动。默认 1",
    )
    web.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one of --workers N
    web.set_defaults(func=_run)


def web_address_line(address: str, settings) -> str:
    line = f"参与者网页版：在手机或电脑浏览器打开 {address}/ 申请。"
    if not settings.smtp_host:
        line += f"没有设置 SMTP_HOST：登录验证码和通知邮件在本机邮箱 {address}/_mailbox 查看（仅本机可打开）。"
    return line


def _run(args: argparse.Namespace) -> int:
    from core.log_masking import configure_logging
    from core.settings import Settings

    configure_logging(logging.INFO)
    settings = Settings()
    host = args.host or settings.web_host
    port = args.port if args.port is not None else settings.web_port
    if args.workers < 1:
        print("--workers 至少为 1。", file=sys.stderr)
        return 2
    if args.workers == 1 or args.worker:
        return _serve(host, port, worker=args.worker)
    if port == 0:
        print("--workers 需要一个固定端口（--port 或 WEB_PORT），不能为 0：各进程要监听同一个端口。", file=sys.stderr)
        return 2
    from bot.ports import PortInUse

    try:
        _check_free(host, port)
    except PortInUse as error:
        print(error, file=sys.stderr)
        return 2
    return _supervise(settings, host, port, args.workers)


def _serve(host: str, port: int, *, worker: bool) -> int:
    """One web process; as a worker of --workers N it shares the port and leaves migrations to the supervisor."""
    from bot.ports import PortInUse, listening

    async def action(core):
        from web.app import start_web

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        runner, address = await listening(start_web(core, host=host, port=port, reuse_port=worker),
                                           host=host, port=port, setting="WEB_PORT")
        # What is built by now (modules, templates, SQLAlchemy mappers) lives as long as the process: frozen,
        # the cyclic collector stops rescanning it on every full collection (as `innoeng run` does).
        gc.freeze()
        try:
            if worker:
                log.info("web worker (pid %s) listening on %s (port shared with the other workers)", os.getpid(), address)
            else:
                print(web_address_line(address, core.settings), flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()

    try:
        run_with_core(action, prepare=not worker)
    except PortInUse as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _check_free(host: str, port: int) -> None:
    """Refuses a port another program listens on, before any worker starts: with SO_REUSEPORT a second
    `innoeng web --workers` of the same user would otherwise share it silently."""
    from bot.ports import PortInUse

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return  # the workers will say what is wrong with the host
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does: TIME_WAIT is no owner
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise PortInUse(host=host, port=port, setting="WEB_PORT") from None
                raise


def _accepting(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
    try:
        socket.create_connection((target, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _supervise(settings, host: str, port: int, workers: int) -> int:
    """N processes `innoeng web --worker` on one port; one that dies is started again, the others keep serving
    (innoeng.supervisor: the same rule as the bot's workers). The address is printed once the port answers."""
    from innoeng.commands.bot import _prepare_once
    from innoeng.supervisor import supervise

    _prepare_once(settings)  # migrations and the first batch, once: the workers would race on an empty database
    began = time.monotonic()
    announced = False

    def announce() -> None:
        nonlocal announced
        if not announced and (_accepting(host, port) or time.monotonic() - began > _READY_TIMEOUT_S):
            announced = True
            address = f"http://{host}:{port}"
            print(f"{workers} 个参与者网页版进程共用端口 {port}。" + web_address_line(address, settings), flush=True)

    argv = [sys.executable, "-m", "innoeng", "web", "--worker", "--host", host, "--port", str(port)]
    return supervise("web", argv, workers, tick=announce)
