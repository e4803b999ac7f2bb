from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from core.eligibility import assess_expert, assess_university
from core.forms import COURSE_DEMANDS, FORMS, FormContext, validate_all
from core.forms.model import Kind, follow_up_step_key
from core.forms.navigation import visible_steps
from core.forms.normalize import parse_date
from core.settings import Settings
from core.texts import text
from innoeng.runtime import run_with_core


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("eligibility", help="资格审核").add_subparsers(dest="eligibility_command", required=True)
    check = group.add_parser("check", help="按通知的基本条件和优先条件审核一份答卷（JSON，题目 key → 答案）")
    check.add_argument("file", type=Path)
    check.add_argument("--form", choices=sorted(FORMS), default="expert")
    check.add_argument("--deadline", help="计算年龄所用的报名截止日（默认：当前批次的截止日）")
    check.add_argument("--partial", action="store_true",
                       help="允许答卷不完整：未填写的必答题列在结果的 missing 中，而不是报错")
    check.set_defaults(func=_check)


def _fail(problems: dict[str, str] | list[str]) -> int:
    print("答卷有误，未进行审核：", file=sys.stderr)
    items = problems.items() if isinstance(problems, dict) else (("", p) for p in problems)
    for key, message in items:
        print(f"  - {key}：{message}" if key else f"  - {message}", file=sys.stderr)
    return 2


def _deadline(value: str | None) -> date:
    if value:
        parsed = parse_date(value)
        if parsed is None:
            raise ValueError(f"无法识别的截止日期：{value}")
        return parsed
    settings = Settings()
    if settings.default_batch_deadline:
        return settings.default_batch_deadline

    async def current(core):
        batch = await core.batches.current()
        return batch.registration_closes_at.astimezone(core.settings.zone).date()

    return run_with_core(current)


def _check(args: argparse.Namespace) -> int:
    try:
        answers = json.loads(args.file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _fail([f"找不到文件 {args.file}"])
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return _fail([f"{args.file} 不是有效的 JSON：{error}"])
    if not isinstance(answers, dict):
        return _fail(["答卷必须是一个 JSON 对象，键为题目 key（见 innoeng forms show --json）"])
    try:
        deadline = _deadline(args.deadline)
    except ValueError as error:
        return _fail([str(error)])
    form = FORMS[args.form]
    ctx = FormContext(deadline=deadline, today=date.today())
    values, problems = validate_all(form, answers, ctx)
    # Files cannot travel in a JSON answer sheet; every other required question shown must be answered.
    missing = [
        step.key for step in visible_steps(form, values, ctx)
        if step.question.required and step.question.kind is not Kind.FILE and values.get(step.key) is None
        and step.key not in problems
    ]
    if not args.partial:
        problems = {**problems, **{key: text("required") for key in missing}}
    if problems:
        return _fail(problems)
    if args.form == "expert":
        verdict = assess_expert(values, deadline=deadline)
    else:
        demands = [
            {"course": course, "hours": values.get(follow_up_step_key(COURSE_DEMANDS, course, "hours"))}
            for course in values.get("courses") or []
        ]
        verdict = assess_university(values, demands)
    result = {"form": args.form, "deadline": deadline.isoformat(), **verdict.to_dict()}
    if args.partial:
        result["missing"] = missing
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0
