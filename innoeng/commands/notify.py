"""`innoeng notify status|show|retry|resume`: the outbox as staff see it.

People read Chinese; a script passes `--json` and reads one JSON document on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys

from core.domain import DomainError
from core.domain.permissions import operator
from innoeng.runtime import run_with_core

__all__ = ["register"]

_STATUS_LABELS = {
    "queued": "排队中", "sending": "发送中", "sent": "已发送", "failed": "失败", "unknown": "结果不明", "skipped": "已跳过",
}
_CHANNEL_LABELS = {"email": "电子邮件", "telegram": "Telegram", "sms": "短信"}


def register(subparsers: argparse._SubParsersAction) -> None:
    notify = subparsers.add_parser("notify", help="通知发送情况").add_subparsers(dest="notify_command", required=True)

    status = notify.add_parser("status", help="排队、到期、发送中、失败（按原因）、暂停的渠道和最早到期时间")
    status.add_argument("--json", action="store_true", help="输出 JSON（供脚本读取）")
    status.set_defaults(func=_status)

    show = notify.add_parser("show", help="一条通知的详情：状态、尝试次数、最近的错误")
    show.add_argument("id", type=int, help="通知编号")
    show.add_argument("--json", action="store_true", help="输出 JSON（供脚本读取）")
    show.set_defaults(func=_show)

    retry = notify.add_parser(
        "retry", help="重新发送失败、结果不明或已跳过的通知（结果不明的可能已送达：请先核实）",
    )
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("ids", nargs="*", type=int, default=[], help="通知编号")
    target.add_argument("--failed", action="store_true", help="所有失败的通知（不含结果不明的）")
    retry.add_argument("--json", action="store_true", help="输出 JSON（供脚本读取）")
    retry.set_defaults(func=_retry)

    resume = notify.add_parser("resume", help="恢复已暂停的发送渠道（例如更正 BOT_TOKEN 后），排队的通知随即发送")
    resume.add_argument("channel", choices=sorted(_CHANNEL_LABELS), help="渠道")
    resume.add_argument("--json", action="store_true", help="输出 JSON（供脚本读取）")
    resume.set_defaults(func=_resume)


def _service(core):
    # Straight from the core: staff commands stay quick by not importing aiogram (notifier.main does).
    from core.services.notifications import NotificationService

    return NotificationService.from_settings(core.settings, uow=core.uow, clock=core.clock)


def _print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _run(action) -> int:
    try:
        return run_with_core(action) or 0
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return 2


def _status(args: argparse.Namespace) -> int:
    async def action(core):
        from notifier.sms.usage import sms_usage

        status = await _service(core).status(staff=operator())
        zone = core.settings.zone
        sms = await sms_usage(core.uow, now=core.clock(), zone=zone)
        oldest = status.oldest_due_at.astimezone(zone).isoformat() if status.oldest_due_at else None
        pauses = [
            {"channel": p.channel, "reason": p.reason, "paused_at": p.paused_at.astimezone(zone).isoformat(),
             "next_probe_at": p.probe_at.astimezone(zone).isoformat()}
            for p in status.paused_channels
        ]
        if args.json:
            _print_json({
                "by_status": status.by_status, "due": status.due, "oldest_due_at": oldest,
                "failed_by_reason": [{"reason": r, "count": c} for r, c in status.failed_by_reason],
                "paused_channels": pauses,
                "sms": sms.as_dict() | {"provider": core.settings.sms_provider},
            })
            return
        for key, label in _STATUS_LABELS.items():
            print(f"{label}（{key}）：{status.by_status.get(key, 0)}")
        print(f"已到期待发送：{status.due}，最早到期：{oldest or '—'}")
        provider = "阿里云" if core.settings.sms_provider == "aliyun" else "模拟（未配置短信服务商，不产生费用）"
        print(f"短信（{provider}）：今日已发送 {sms.today} 条，本月 {sms.this_month} 条，累计 {sms.total} 条；"
              f"排队中 {sms.queued} 条（按条计，超长短信服务商按多条计费）")
        for pause in pauses:
            print(f"渠道已暂停：{_CHANNEL_LABELS.get(pause['channel'], pause['channel'])}，自 {pause['paused_at']}，"
                  f"原因：{pause['reason']}；下次自动重试 {pause['next_probe_at']}"
                  f"（修正后可用 innoeng notify resume {pause['channel']} 立即恢复）")
        if status.failed_by_reason:
            print("失败/结果不明，按原因：")
            for reason, count in status.failed_by_reason:
                print(f"  {count}\t{reason}")
        if status.by_status.get("unknown"):
            print("结果不明的通知可能已送达：核实后用 innoeng notify retry 编号 逐条重发。")

    return _run(action)


def _show(args: argparse.Namespace) -> int:
    async def action(core):
        row = await _service(core).get(message_id=args.id, staff=operator())
        if args.json:
            _print_json(row)
            return
        print(f"通知 #{row['id']}：{row['kind']}，{_CHANNEL_LABELS.get(row['channel'], row['channel'])} → {row['address']}")
        print(f"状态：{_STATUS_LABELS.get(row['status'], row['status'])}（{row['status']}），已尝试 {row['attempts']} 次")
        print(f"到期：{row['due_at']}；发送时间：{row['sent_at'] or '—'}")
        if row["last_error"]:
            print(f"最近的错误：{row['last_error']}")
        if row["provider_reply"]:
            print(f"服务器答复：{row['provider_reply']}")

    return _run(action)


def _retry(args: argparse.Namespace) -> int:
    if not args.failed and not args.ids:
        print("请给出通知编号，或使用 --failed。", file=sys.stderr)
        return 2

    async def action(core):
        count = await _service(core).retry(message_ids=args.ids, all_failed=args.failed, actor=operator())
        if args.json:
            _print_json({"queued_again": count})
        elif count:
            print(f"已重新排队 {count} 条通知，通知进程会尽快发送。")
        else:
            print("没有需要重新发送的通知（只有失败、结果不明或已跳过的通知可以重发）。")

    return _run(action)


def _resume(args: argparse.Namespace) -> int:
    async def action(core):
        resumed = await _service(core).resume_channel(channel=args.channel, actor=operator())
        label = _CHANNEL_LABELS[args.channel]
        if args.json:
            _print_json({"channel": args.channel, "resumed": resumed})
        elif resumed:
            print(f"已恢复 {label} 渠道：排队中的通知随即发送。如原因未排除，渠道会再次暂停并通知工作人员。")
        else:
            print(f"{label} 渠道没有暂停，无需恢复。")

    return _run(action)
