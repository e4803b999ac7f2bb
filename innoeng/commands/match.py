"""`innoeng match ...`: the matching engine from the command line.

`match solve INSTANCE.json` runs the solver on a language-neutral instance (see
`core.matching.instance`) and prints the result JSON; it is what tools and
benchmarks use. Workflow commands (run a batch, show a proposal) belong here too.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.matching import InstanceError, parse_instance
from innoeng.runtime import run_or_refuse

__all__ = ["register"]

EXIT_BAD_INSTANCE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    match = subparsers.add_parser("match", help="双向匹配：专家与高校课程需求")
    commands = match.add_subparsers(dest="match_command", required=True)

    solve_parser = commands.add_parser(
        "solve",
        help="solve a matching instance (JSON) and print the result as JSON",
        description=(
            "Maximise filled slots, then total score, with each expert at most max_universities "
            "distinct universities and max_slots slots. Prints assignments, score, proven bound and gap."
        ),
    )
    solve_parser.add_argument("instance", type=Path, help="instance JSON file, or - for standard input")
    solve_parser.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds (default: none)")
    solve_parser.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    solve_parser.set_defaults(func=run_solve)

    run = commands.add_parser("run", help="对一个批次运行匹配，保存为编号的、不可更改的匹配结果")
    run.add_argument("--batch", required=True, help="批次编号或名称")
    run.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    run.set_defaults(func=run_batch)

    show = commands.add_parser("show", help="显示一次匹配：填补情况、配对及评分说明、未填补原因")
    show.add_argument("run", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=show_run)

    export = commands.add_parser("export", help="把一次匹配导出为 xlsx")
    export.add_argument("run", type=int)
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(func=export_run)

    confirm = commands.add_parser("confirm", help="确认匹配结果（全部或部分配对），通知专家和高校答复")
    confirm.add_argument("run", type=int)
    confirm.add_argument("--pairs", type=int, nargs="+", metavar="ID", help="只确认这些配对编号")
    confirm.set_defaults(func=confirm_run)

    lift = commands.add_parser("lift-cap", help="为一位专家放宽受聘高校数上限（须记录理由）")
    lift.add_argument("expert", type=int, help="专家申请编号")
    lift.add_argument("--max", type=int, required=True, dest="max_universities")
    lift.add_argument("--reason", required=True)
    lift.set_defaults(func=lift_cap)

    publicity = commands.add_parser("publicity", help="公示名单（文本；--out 同时导出 xlsx）")
    publicity.add_argument("--out", type=Path)
    publicity.set_defaults(func=publicity_list)

    filing = commands.add_parser("filing-export", help="导出备案表 xlsx（已签订协议和已备案的聘任）")
    filing.add_argument("--out", type=Path, required=True)
    filing.set_defaults(func=filing_export)


def _fail(problems: list[str]) -> int:
    print("invalid matching instance:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_BAD_INSTANCE


def run_solve(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if str(args.instance) == "-" else args.instance.read_text(encoding="utf-8")
    except OSError as exc:
        return _fail([f"cannot read {args.instance}: {exc.strerror or exc}"])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _fail([f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"])
    if args.time_limit is not None and args.time_limit < 0:
        return _fail(["--time-limit must be >= 0"])
    try:
        instance = parse_instance(data)
    except InstanceError as exc:
        return _fail(exc.problems)
    from core.matching import solve  # SciPy, HiGHS and OR-Tools load only for the commands that solve

    solution = solve(instance, time_limit=args.time_limit)
    json.dump(solution.to_dict(), sys.stdout, ensure_ascii=False, indent=args.indent)
    sys.stdout.write("\n")
    return 0


def _print_run(run) -> None:
    print(f"第 {run.id} 次匹配（批次 {run.batch_id}，{run.solver_status}）：填补 {run.filled}/{run.total_need}，"
          f"总分 {run.score:.4f}，上界 {run.bound:.4f}，差距 {run.gap:.4%}，用时 {run.time_s:.2f} 秒"
          + ("，已确认" if run.confirmed else ""))
    for p in run.proposals:
        state = "已接受（固定）" if p.fixed else (f"聘任 {p.appointment_id}" if p.appointment_id else "待确认")
        print(f"  {p.id}. {p.university_name}《{p.course}》← {p.expert_name}（{p.employer}） 分 {p.score:.3f} [{state}]")
        print(f"      {p.explanation}")
    for slot in run.unfilled:
        print(f"  未填补：{slot.get('university')} {slot.get('demand')} 缺 {slot.get('missing')} 人——{slot.get('explanation')}")


def _run_json(run) -> dict:
    return {
        "id": run.id, "batch_id": run.batch_id, "status": run.solver_status, "filled": run.filled,
        "total_need": run.total_need, "score": run.score, "bound": run.bound, "gap": run.gap, "time_s": run.time_s,
        "confirmed": run.confirmed, "params": run.params, "unfilled": run.unfilled, "stability": run.stability,
        "proposals": [
            {"id": p.id, "expert_application_id": p.expert_application_id, "expert": p.expert_name,
             "university_application_id": p.university_application_id, "university": p.university_name,
             "course": p.course, "score": p.score, "fixed": p.fixed, "appointment_id": p.appointment_id,
             "explanation": p.explanation}
            for p in run.proposals
        ],
    }


def run_batch(args: argparse.Namespace) -> int:
    async def action(core):
        batch = await core.batches.get(ref=str(args.batch))
        _print_run(await core.matching.run(batch_id=batch.id, staff="cli", time_limit=args.time_limit))

    return run_or_refuse(action)


def show_run(args: argparse.Namespace) -> int:
    async def action(core):
        run = await core.matching.get(run_id=args.run)
        if args.json:
            print(json.dumps(_run_json(run), ensure_ascii=False, indent=2, default=str))
        else:
            _print_run(run)

    return run_or_refuse(action)


def export_run(args: argparse.Namespace) -> int:
    from core.exports import run_workbook

    async def action(core):
        args.out.write_bytes(run_workbook(await core.matching.get(run_id=args.run)))
        print(f"已导出到 {args.out}")

    return run_or_refuse(action)


def confirm_run(args: argparse.Namespace) -> int:
    async def action(core):
        _print_run(await core.matching.confirm(run_id=args.run, staff="cli", proposal_ids=args.pairs))

    return run_or_refuse(action)


def lift_cap(args: argparse.Namespace) -> int:
    async def action(core):
        await core.matching.lift_cap(expert_application_id=args.expert, max_universities=args.max_universities,
                                     reason=args.reason, staff="cli")
        print(f"已将专家申请 {args.expert} 的受聘高校数上限放宽为 {args.max_universities} 所。")

    return run_or_refuse(action)


def publicity_list(args: argparse.Namespace) -> int:
    from core.exports import publicity_text, publicity_workbook

    async def action(core):
        listed = await core.appointments.list(statuses=["publicity"])
        print(publicity_text(listed))
        if args.out:
            args.out.write_bytes(publicity_workbook(listed))

    return run_or_refuse(action)


def filing_export(args: argparse.Namespace) -> int:
    from core.exports import filing_workbook

    async def action(core):
        args.out.write_bytes(filing_workbook(await core.appointments.list(statuses=["agreed", "filed"])))
        print(f"已导出到 {args.out}")

    return run_or_refuse(action)
