"""`innoeng events create|list|update|cancel|invite|tally`: workshops and other events for staff."""
from __future__ import annotations

import argparse
import json

from core.domain import DomainError
from core.domain.permissions import operator
from core.services.events import AUDIENCES, EVENT_KINDS, RSVP_LABELS, EventView, parse_event_time
from innoeng.runtime import run_or_refuse

__all__ = ["register"]



def register(subparsers: argparse._SubParsersAction) -> None:
    events = subparsers.add_parser("events", help="活动（岗前示范交流活动、校企对接活动、教学研讨会）")
    commands = events.add_subparsers(dest="events_command", required=True)

    create = commands.add_parser("create", help="创建活动")
    create.add_argument("--kind", required=True, help="类型：" + "、".join(f"{k}（{v}）" for k, v in EVENT_KINDS.items()))
    create.add_argument("--title", required=True)
    create.add_argument("--starts", required=True, help="开始时间，北京时间，例如 2025-09-01 14:00")
    create.add_argument("--ends", required=True, help="结束时间；同一天可只写 16:00")
    create.add_argument("--venue", help="线下地点")
    create.add_argument("--url", help="线上参会链接")
    create.add_argument("--description")
    create.set_defaults(func=_create)

    listing = commands.add_parser("list", help="列出活动及回复统计")
    listing.add_argument("--all", action="store_true", help="包括已结束和已取消的活动")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    update = commands.add_parser("update", help="修改活动（已邀请的人会收到更新通知和新的日历邀请）")
    update.add_argument("id", type=int)
    update.add_argument("--title")
    update.add_argument("--starts", help="新的开始时间（不写结束时间则保持时长）")
    update.add_argument("--ends")
    update.add_argument("--venue")
    update.add_argument("--url")
    update.add_argument("--description")
    update.set_defaults(func=_update)

    cancel = commands.add_parser("cancel", help="取消活动（已邀请的人会收到取消通知）")
    cancel.add_argument("id", type=int)
    cancel.add_argument("--reason")
    cancel.set_defaults(func=_cancel)

    invite = commands.add_parser("invite", help="邀请（重复邀请同一人不会重复发送）")
    invite.add_argument("id", type=int)
    invite.add_argument("--audience", required=True, choices=list(AUDIENCES),
                        help="；".join(f"{k}：{v}" for k, v in AUDIENCES.items()))
    invite.add_argument("--people", help="人员编号，逗号分隔（--audience people 时）")
    invite.add_argument("--batch", type=int, help="只邀请该批次的专家/高校")
    invite.set_defaults(func=_invite)

    tally = commands.add_parser("tally", help="回复统计与名单")
    tally.add_argument("id", type=int)
    tally.add_argument("--json", action="store_true")
    tally.set_defaults(func=_tally)


def _time(raw: str | None, zone, *, on=None):
    if raw is None:
        return None
    value = parse_event_time(raw, zone, on=on)
    if value is None:
        raise DomainError(f"无法识别的时间「{raw}」，请按 2025-09-01 14:00 的格式输入。")
    return value


def _as_dict(event: EventView, zone) -> dict:
    return {
        "id": event.id, "kind": event.kind, "kind_label": event.kind_label, "title": event.title,
        "starts_at": event.starts_at.astimezone(zone).isoformat(), "ends_at": event.ends_at.astimezone(zone).isoformat(),
        "venue": event.venue, "online_url": event.online_url, "description": event.description,
        "status": event.status, "sequence": event.sequence,
        "tally": {"invited": event.tally.invited, "attending": event.tally.attending,
                  "declined": event.tally.declined, "pending": event.tally.pending},
    }


def _create(args: argparse.Namespace) -> int:
    async def action(core):
        zone = core.settings.zone
        starts = _time(args.starts, zone)
        event = await core.events.create(
            kind=args.kind, title=args.title, starts_at=starts, ends_at=_time(args.ends, zone, on=starts.date()),
            venue=args.venue, online_url=args.url, description=args.description, actor=operator(),
        )
        print(json.dumps(_as_dict(event, zone), ensure_ascii=False))

    return run_or_refuse(action)


def _list(args: argparse.Namespace) -> int:
    async def action(core):
        zone = core.settings.zone
        events = await core.events.list(include_past=args.all, include_cancelled=args.all, staff=operator())
        if args.json:
            print(json.dumps([_as_dict(e, zone) for e in events], ensure_ascii=False, indent=2))
            return
        for e in events:
            starts = e.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            state = "（已取消）" if e.cancelled else ""
            print(f"{e.id}\t{e.kind_label}\t{e.title}{state}\t{starts}\t"
                  f"参加 {e.tally.attending} / 不参加 {e.tally.declined} / 未回复 {e.tally.pending}")

    return run_or_refuse(action)


def _update(args: argparse.Namespace) -> int:
    async def action(core):
        zone = core.settings.zone
        current = await core.events.get(event_id=args.id, staff=operator())
        starts = _time(args.starts, zone)
        extra = {name: getattr(args, attr) for name, attr in
                 (("venue", "venue"), ("online_url", "url"), ("description", "description"))
                 if getattr(args, attr) is not None}
        event = await core.events.update(
            event_id=args.id, actor=operator(), title=args.title, starts_at=starts,
            ends_at=_time(args.ends, zone, on=(starts or current.starts_at).astimezone(zone).date()), **extra,
        )
        print(json.dumps(_as_dict(event, zone), ensure_ascii=False))

    return run_or_refuse(action)


def _cancel(args: argparse.Namespace) -> int:
    async def action(core):
        event = await core.events.cancel(event_id=args.id, actor=operator(), reason=args.reason)
        print(json.dumps(_as_dict(event, core.settings.zone), ensure_ascii=False))

    return run_or_refuse(action)


def _invite(args: argparse.Namespace) -> int:
    async def action(core):
        people = [int(p) for p in (args.people or "").replace("，", ",").split(",") if p.strip()]
        result = await core.events.invite(
            event_id=args.id, actor=operator(), audience=args.audience, person_ids=people, batch_id=args.batch
        )
        print(json.dumps({"event_id": result.event_id, "invited": result.invited,
                          "already_invited": result.already_invited}, ensure_ascii=False))

    return run_or_refuse(action)


def _tally(args: argparse.Namespace) -> int:
    async def action(core):
        event = await core.events.get(event_id=args.id, staff=operator())
        invitations = await core.events.invitations(event_id=args.id, staff=operator())
        if args.json:
            print(json.dumps({
                "event": _as_dict(event, core.settings.zone),
                "invitations": [{"id": i.id, "person_id": i.person_id, "name": i.display_name, "rsvp": i.rsvp}
                                for i in invitations],
            }, ensure_ascii=False, indent=2))
            return
        t = event.tally
        print(f"{event.kind_label}「{event.title}」：邀请 {t.invited}，参加 {t.attending}，不参加 {t.declined}，未回复 {t.pending}")
        for i in invitations:
            print(f"  {i.person_id}\t{i.display_name or '-'}\t{RSVP_LABELS[i.rsvp]}")

    return run_or_refuse(action)
