from __future__ import annotations

import argparse
import json
from datetime import date

from core.domain.permissions import operator
from core.forms.normalize import parse_date
from core.services import BatchView
from innoeng.runtime import run_or_refuse


def _date(value: str) -> date:
    parsed = parse_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"无法识别的日期：{value}（例如 2025-08-15）")
    return parsed


def _optional_date(value: str) -> date | None:
    return None if value in ("", "none", "-") else _date(value)


def register(subparsers: argparse._SubParsersAction) -> None:
    batch = subparsers.add_parser("batch", help="报名批次").add_subparsers(dest="batch_command", required=True)

    create = batch.add_parser("create", help="创建批次")
    create.add_argument("--name", required=True)
    create.add_argument("--opens", type=_date, required=True, help="报名开始日期")
    create.add_argument("--closes", type=_date, required=True, help="报名截止日期（当天 24 点截止，北京时间）")
    create.add_argument("--matching", type=_date, help="匹配开始日期")
    create.add_argument("--publicity", type=_date, help="公示开始日期")
    create.set_defaults(func=_create)

    listing = batch.add_parser("list", help="列出批次")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    update = batch.add_parser("update", help="修改批次")
    update.add_argument("ref", help="批次编号或名称")
    update.add_argument("--name")
    update.add_argument("--opens", type=_date)
    update.add_argument("--closes", type=_date)
    update.add_argument("--matching", type=_optional_date, default=argparse.SUPPRESS, help="日期，或 none 清除")
    update.add_argument("--publicity", type=_optional_date, default=argparse.SUPPRESS, help="日期，或 none 清除")
    update.set_defaults(func=_update)


def _as_dict(batch: BatchView, zone) -> dict:
    """Times in the plan's zone (Beijing time), as staff read them."""

    def local(moment):
        return moment.astimezone(zone).isoformat() if moment else None

    return {
        "id": batch.id,
        "name": batch.name,
        "registration_opens_at": local(batch.registration_opens_at),
        "registration_closes_at": local(batch.registration_closes_at),
        "matching_starts_at": local(batch.matching_starts_at),
        "publicity_starts_at": local(batch.publicity_starts_at),
    }


def _create(args: argparse.Namespace) -> int:
    async def action(core):
        batch = await core.batches.create(
            name=args.name, registration_opens=args.opens, registration_closes=args.closes,
            matching_starts=args.matching, publicity_starts=args.publicity, actor=operator(),
        )
        print(json.dumps(_as_dict(batch, core.settings.zone), ensure_ascii=False))

    return run_or_refuse(action)


def _list(args: argparse.Namespace) -> int:
    async def action(core):
        batches = await core.batches.list()
        if args.json:
            print(json.dumps([_as_dict(b, core.settings.zone) for b in batches], ensure_ascii=False, indent=2))
            return
        zone = core.settings.zone
        for b in batches:
            closes = b.registration_closes_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            opens = b.registration_opens_at.astimezone(zone).strftime("%Y-%m-%d")
            print(f"{b.id}\t{b.name}\t报名 {opens} 至 {closes}")

    return run_or_refuse(action)


def _update(args: argparse.Namespace) -> int:
    async def action(core):
        extra = {}
        if hasattr(args, "matching"):
            extra["matching_starts"] = args.matching
        if hasattr(args, "publicity"):
            extra["publicity_starts"] = args.publicity
        batch = await core.batches.update(
            ref=args.ref, name=args.name, registration_opens=args.opens, registration_closes=args.closes,
            actor=operator(), **extra,
        )
        print(json.dumps(_as_dict(batch, core.settings.zone), ensure_ascii=False))

    return run_or_refuse(action)
