from __future__ import annotations

import argparse

from core.db.migrate import current_revision, downgrade, upgrade
from innoeng.runtime import run_with_core


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="数据库迁移").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="升级数据库结构到最新版本")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_upgrade)
    down = db.add_parser("downgrade", help="回退数据库结构")
    down.add_argument("revision")
    down.set_defaults(func=_downgrade)
    db.add_parser("current", help="显示当前数据库版本").set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    async def action(core):
        await upgrade(core.engine, args.revision)
        print(f"数据库已升级到 {await current_revision(core.engine)}")

    run_with_core(action, prepare=False)
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    async def action(core):
        await downgrade(core.engine, args.revision)
        print(f"数据库已回退到 {await current_revision(core.engine) or 'base'}")

    run_with_core(action, prepare=False)
    return 0


def _current(args: argparse.Namespace) -> int:
    async def action(core):
        print(await current_revision(core.engine) or "base")

    run_with_core(action, prepare=False)
    return 0
