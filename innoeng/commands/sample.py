from __future__ import annotations

import argparse
import json
import time

from core.domain.permissions import operator
from core.sample import SAMPLE_DOMAINS, populate
from innoeng.runtime import run_with_core


def register(subparsers: argparse._SubParsersAction) -> None:
    sample = subparsers.add_parser(
        "sample", help="生成演示用的模拟申请（经由正常的填写、校验和提交流程；邮箱均为 RFC 2606 保留域名）"
    )
    sample.add_argument("--experts", type=int, default=20, help="专家申请份数（默认 20）")
    sample.add_argument("--universities", type=int, default=5, help="高校意向表份数（默认 5）")
    sample.add_argument("--seed", type=int, default=2025, help="随机种子：同一种子生成同样的答卷（默认 2025）")
    sample.add_argument("--approve", action="store_true", help="同时把资格初审为“符合”的专家和高校批准入库")
    sample.add_argument("--json", action="store_true", help="以 JSON 输出结果（供脚本读取）")
    sample.set_defaults(func=_sample)


def _sample(args: argparse.Namespace) -> int:
    async def action(core):
        started = time.perf_counter()
        # Without BOT_TOKEN `innoeng run` talks to the local stand-in: there sample people get Telegram ids,
        # so one can answer as them. With a real bot these ids belong to real people, so none is given.
        stand_in = core.settings.bot_token is None
        result = await populate(
            people=core.people, intake=core.intake, experts=args.experts, universities=args.universities,
            seed=args.seed, telegram=stand_in,
        )
        approved = 0
        if args.approve:
            staff = operator()  # the audit log names the shell's operator (cli:USER) as the approver
            for application_id in result.experts + result.universities:
                summary = await core.intake.summary(application_id=application_id)
                if summary.eligibility and summary.eligibility.outcome == "pass":
                    await core.review.approve(application_id=application_id, staff=staff)
                    approved += 1
        seconds = round(time.perf_counter() - started, 1)
        if args.json:
            print(json.dumps(
                {"experts": len(result.experts), "universities": len(result.universities), "approved": approved,
                 "seed": args.seed, "seconds": seconds,
                 "people": [{"application_id": p.application_id, "form": p.form, "name": p.name,
                             "organization": p.organization, "telegram_id": p.telegram_id} for p in result.people]},
                ensure_ascii=False,
            ))
            return
        print(f"已生成模拟申请：专家 {len(result.experts)} 份，高校意向表 {len(result.universities)} 份（随机种子 {args.seed}，用时 {seconds} 秒）。")
        if args.approve:
            print(f"已批准资格初审为“符合”的 {approved} 份。")
        else:
            print("均为“已提交，待审核”；加 --approve 可同时批准资格初审为“符合”的申请。")
        print(f"邮箱均在保留域名 {'、'.join(SAMPLE_DOMAINS)} 下，不会发到真实邮箱。")
        if not stand_in:
            print("已设置 BOT_TOKEN：模拟申请人没有 Telegram 账号，只能在工作台查看。")
            return
        page = f"http://{core.settings.sandbox_host}:{core.settings.sandbox_port}/"
        print(f"在本地 Bot API 替身（{page}）中以下列用户 ID 进入聊天，即可作为该申请人答复（如匹配结果的 接受/确认）：")
        for person in result.people:
            role = "专家" if person.form == "expert" else "高校联系人"
            print(f"  {person.telegram_id}  {role}  {person.name}（{person.organization}）")

    run_with_core(action)
    return 0
