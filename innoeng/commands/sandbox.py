"""`innoeng sandbox`: run the local Bot API stand-in until interrupted."""
from __future__ import annotations

import argparse
import asyncio

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="本地 Bot API 替身(测试与演示用,含网页聊天)",
        description="Run a local stand-in for the Telegram Bot API with a browser chat page at /.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help="bot token to accept (repeatable); default: the built-in sandbox token",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.sandbox import DEFAULT_TOKEN, serve_forever  # aiohttp only when the command runs
    from bot.sandbox.persistence import default_state_file
    from core.settings import Settings

    state_file = default_state_file(Settings().data_dir, args.port)
    try:
        asyncio.run(serve_forever(args.host, args.port, args.tokens or [DEFAULT_TOKEN], state_file=state_file))
    except KeyboardInterrupt:
        pass
    return 0
