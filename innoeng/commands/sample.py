from __future__ import annotations

import argparse
import json

from core.sample import populate
from innoeng.runtime import run_with_core


def register(subparsers: argparse._SubParsersAction) -> None:
    sample = subparsers.add_parser("sample", help="生成演示用的模拟申请（经由正常的填写、校验和提交流程）")
    sample.add_argument("--experts", type=int, default=20)
    sample.add_argument("--universities", type=int, default=5)
    sample.add_argument("--seed", type=int, default=2025)
    sample.add_argument("--approve", action="store_true", help="同时把资格审核通过的专家批准入库")
    sample.set_defaults(func=_sample)


def _sample(args: argparse.Namespace) -> int:
    async def action(core):
        result = await populate(
            people=core.people, intake=core.intake, experts=args.experts, universities=args.universities, seed=args.seed
        )
        approved = 0
        if args.approve:
            for application_id in result.experts + result.universities:
                summary = await core.intake.summary(application_id=application_id)
                if summary.eligibility and summary.eligibility.outcome == "pass":
                    await core.review.approve(application_id=application_id, staff="cli:sample")
                    approved += 1
        print(json.dumps(
            {"experts": len(result.experts), "universities": len(result.universities), "approved": approved},
            ensure_ascii=False,
        ))

    run_with_core(action)
    return 0
