"""`innoeng maintenance reconcile|retention`: the file store against its rows, and the retention periods."""
from __future__ import annotations

import argparse
import json

from core.domain.permissions import operator
from innoeng.runtime import run_with_core

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    maintenance = subparsers.add_parser("maintenance", help="维护：文件与数据库核对、个人信息保存期限") \
        .add_subparsers(dest="maintenance_command", required=True)

    reconcile = maintenance.add_parser(
        "reconcile", help="删除没有记录引用的文件，列出文件缺失的记录，重试未完成的文件删除")
    reconcile.add_argument("--dry-run", action="store_true", help="只报告，不改动")
    reconcile.add_argument("--json", action="store_true")
    reconcile.set_defaults(func=_reconcile)

    retention = maintenance.add_parser("retention", help="按保存期限删除或脱敏到期的个人信息（计数写入审计日志）")
    retention.add_argument("--dry-run", action="store_true", help="只统计将被处理的数量，不改动")
    retention.add_argument("--json", action="store_true")
    retention.set_defaults(func=_retention)


def _reconcile(args: argparse.Namespace) -> int:
    async def action(core):
        return (await core.privacy.files.reconcile(dry_run=args.dry_run, actor=operator().actor)).to_dict()

    report = run_with_core(action)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        verb = "将删除" if report["dry_run"] else "已删除"
        print(f"无记录引用的文件：{len(report['orphans_removed'])} 个（{verb}）")
        for name in report["orphans_removed"]:
            print(f"  {name}")
        print(f"已提交但未改名的文件：{len(report['staged_published'])} 个")
        print(f"文件缺失的记录：{len(report['missing'])} 条")
        for row in report["missing"]:
            print(f"  文件编号 {row['document_id']}（申请 {row['application_id']}）：{row['stored_name']}")
        if not report["dry_run"]:
            print(f"待删除文件：已删除 {report['pending_deleted']} 个，仍未删除 {len(report['pending_failed'])} 个")
            for name, reason in report["pending_failed"].items():
                print(f"  {name}：{reason}")
    # Rows whose file is missing need a person to look: a non-zero exit makes the cron job say so.
    return 1 if report["missing"] or report.get("pending_failed") else 0


def _retention(args: argparse.Namespace) -> int:
    async def action(core):
        from core.services.retention import RetentionService

        service = RetentionService.from_settings(core.settings, uow=core.uow, documents=core.documents, clock=core.clock)
        return {"dry_run": args.dry_run, "periods_days": service.describe(),
                "counts": await service.run(dry_run=args.dry_run, actor=operator().actor)}

    report = run_with_core(action)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(("将处理（试运行，未改动）：" if args.dry_run else "已处理：")
              + "，".join(f"{kind} {count}" for kind, count in report["counts"].items()))
    return 0
