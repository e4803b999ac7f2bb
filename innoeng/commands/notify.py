"""`innoeng notify status|retry`: the outbox as staff see it."""
from __future__ import annotations

import argparse
import json
import sys

from core.domain import DomainError
from innoeng.runtime import run_with_core

__all__ = ["register"]

_STATUS_LABELS = {
    "queued": "排队中", "sending": "发送中", "sent": "已发送", "failed": "失败", "unknown": "结果不明", "skipped": "已跳过",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    notify = subparsers.add_parser("notify", help="通知发送情况").add_subparsers(dest="notify_command", required=True)

    status = notify.add_parser("status", help="排队、到期、发送中、失败（按原因）和最早到期时间")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)

    retry = notify.add_parser("retry", help="重新发送失败、结果不明或已跳过的通知")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("ids", nargs="*", type=int, default=[], help="通知编号")
    target.add_argument("--failed", action="store_true", help="所有失败的通知（不含结果不明的）")
    retry.set_defaults(func=_retry)


def _service(core):
    # Straight from the core: staff commands stay quick by not importing aiogram (notifier.main does).
    from core.services.notifications import NotificationService

    return NotificationService.from_settings(core.settings, uow=core.uow, clock=core.clock)


def _status(args: argparse.Namespace) -> int:
    async def action(core):
        status = await _service(core).status()
        zone = core.settings.zone
        oldest = status.oldest_due_at.astimezone(zone).isoformat() if status.oldest_due_at else None
        if args.json:
            print(json.dumps({
                "by_status": status.by_status, "due": status.due, "oldest_due_at": oldest,
                "failed_by_reason": [{"reason": r, "count": c} for r, c in status.failed_by_reason],
            }, ensure_ascii=False, indent=2))
            return
        for key, label in _STATUS_LABELS.items():
            print(f"{label}（{key}）：{status.by_status.get(key, 0)}")
        print(f"已到期待发送：{status.due}，最早到期：{oldest or '—'}")
        if status.failed_by_reason:
            print("失败/结果不明，按原因：")
            for reason, count in status.failed_by_reason:
                print(f"  {count}\t{reason}")

    run_with_core(action)
    return 0


def _retry(args: argparse.Namespace) -> int:
    if not args.failed and not args.ids:
        print("请给出通知编号，或使用 --failed。", file=sys.stderr)
        return 2

    async def action(core):
        count = await _service(core).retry(message_ids=args.ids, all_failed=args.failed, actor="cli")
        print(json.dumps({"queued_again": count}, ensure_ascii=False))

    try:
        run_with_core(action)
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return 2
    return 0
