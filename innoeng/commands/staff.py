"""`innoeng staff …`: console accounts — add (prints a one-time set-up link), list, disable, enable,
reset (a new link), role, link-telegram."""
from __future__ import annotations

import argparse
import json

from core.domain.permissions import operator
from core.domain.staff import Role
from core.texts import text
from innoeng.runtime import run_or_refuse

__all__ = ["register"]

ROLE_CHOICES = [role.value for role in Role]


def register(subparsers: argparse._SubParsersAction) -> None:
    staff = subparsers.add_parser("staff", help="工作台（网页）工作人员账号").add_subparsers(dest="staff_command", required=True)

    add = staff.add_parser("add", help="新建账号并显示一次性设置链接")
    add.add_argument("email")
    add.add_argument("--name", required=True, help="姓名（显示在审计日志中）")
    add.add_argument("--role", required=True, choices=ROLE_CHOICES,
                     help="reviewer 审核员 / coordinator 协调员 / admin 管理员（须启用两步验证）")
    add.set_defaults(func=_add)

    listing = staff.add_parser("list", help="列出账号")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    for name, helptext, func in (("disable", "停用账号并结束其所有登录", _disable), ("enable", "重新启用账号并解除锁定", _enable),
                                 ("reset", "作废当前密码并生成新的一次性设置链接", _reset)):
        command = staff.add_parser(name, help=helptext)
        command.add_argument("ref", help="账号编号或邮箱")
        command.set_defaults(func=func)

    role = staff.add_parser("role", help="修改角色")
    role.add_argument("ref", help="账号编号或邮箱")
    role.add_argument("role", choices=ROLE_CHOICES)
    role.set_defaults(func=_role)

    link = staff.add_parser("link-telegram", help="关联 Telegram 账号，使机器人与网页操作在审计日志中显示为同一人")
    link.add_argument("ref", help="账号编号或邮箱")
    link.add_argument("telegram_id", help="Telegram 用户编号（STAFF_TELEGRAM_IDS 中的数字），或 none 取消关联")
    link.set_defaults(func=_link)


def _print_link(link) -> None:
    account = link.account
    print(f"已创建工作人员账号 #{account.id}：{account.name} <{account.email}>，角色：{text(f'role.{account.role.value}')}")
    print(f"请把以下一次性设置链接交给本人（{link.expires_at.astimezone().strftime('%Y-%m-%d %H:%M')} 前有效，只能使用一次）：")
    print(link.url)


def _add(args: argparse.Namespace) -> int:
    async def action(core):
        _print_link(await core.staff.add(email=args.email, name=args.name, role=args.role, actor=operator()))

    return run_or_refuse(action)


def _reset(args: argparse.Namespace) -> int:
    async def action(core):
        _print_link(await core.staff.reissue_setup(ref=args.ref, actor=operator()))

    return run_or_refuse(action)


def _list(args: argparse.Namespace) -> int:
    async def action(core):
        accounts = await core.staff.list(staff=operator())
        if args.json:
            print(json.dumps([{
                "id": a.id, "email": a.email, "name": a.name, "role": a.role.value, "telegram_id": a.telegram_id,
                "totp": a.totp_enabled, "password_set": a.has_password, "disabled": a.disabled,
                "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None,
            } for a in accounts], ensure_ascii=False, indent=2))
            return
        if not accounts:
            print("还没有工作人员账号。用 innoeng staff add 邮箱 --name 姓名 --role reviewer 新建。")
        for a in accounts:
            state = "已停用" if a.disabled else ("待设置密码" if not a.has_password else "正常")
            telegram = f"，Telegram {a.telegram_id}" if a.telegram_id else ""
            print(f"#{a.id} {a.name} <{a.email}> {text(f'role.{a.role.value}')}，{state}"
                  f"{'，已启用两步验证' if a.totp_enabled else ''}{telegram}")

    return run_or_refuse(action)


def _disable(args: argparse.Namespace) -> int:
    async def action(core):
        account = await core.staff.disable(ref=args.ref, actor=operator())
        print(f"已停用 #{account.id} {account.name}，其所有登录已结束。")

    return run_or_refuse(action)


def _enable(args: argparse.Namespace) -> int:
    async def action(core):
        account = await core.staff.enable(ref=args.ref, actor=operator())
        print(f"已启用 #{account.id} {account.name}。")

    return run_or_refuse(action)


def _role(args: argparse.Namespace) -> int:
    async def action(core):
        account = await core.staff.change_role(ref=args.ref, role=args.role, actor=operator())
        print(f"#{account.id} {account.name} 的角色已改为{text(f'role.{account.role.value}')}，其现有登录已结束。")

    return run_or_refuse(action)


def _link(args: argparse.Namespace) -> int:
    raw = args.telegram_id.strip().lower()
    if raw in ("none", "-", ""):
        telegram_id = None
    elif raw.lstrip("-").isdigit():
        telegram_id = int(raw)
    else:
        print(f"「{args.telegram_id}」不是 Telegram 用户编号（一串数字），或 none。")
        return 2

    async def action(core):
        account = await core.staff.link_telegram(ref=args.ref, telegram_id=telegram_id, actor=operator())
        if telegram_id is None:
            print(f"已取消 #{account.id} {account.name} 的 Telegram 关联。")
        else:
            print(f"已把 Telegram {telegram_id} 关联到 #{account.id} {account.name}：审计日志中两处操作显示为同一人。")

    return run_or_refuse(action)
