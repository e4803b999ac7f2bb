"""`innoeng match ...`: the matching engine from the command line.

`match solve INSTANCE.json` runs the solver on a language-neutral instance (see
`core.matching.instance`) and prints the result JSON; it is what tools and
benchmarks use. Workflow commands (run a batch, show a proposal) belong here too.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

from core.domain.permissions import operator
from core.domain import DomainError
from core.matching import InstanceError, parse_instance
from core.texts import text as text_of
from innoeng.runtime import run_or_refuse, run_with_core

__all__ = ["register"]

EXIT_BAD_INSTANCE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    match = subparsers.add_parser("match", help="双向匹配：专家与高校课程需求")
    commands = match.add_subparsers(dest="match_command", required=True)

    solve_parser = commands.add_parser(
        "solve",
        help="求解一个匹配实例（JSON 输入，JSON 输出，供工具和基准测试使用）",
        description=(
            "先使填补的名额最多，再使总分最高；每位专家最多受聘 max_universities 所不同高校、"
            "max_slots 个名额。输出配对、总分、已证明的上界和最优性差距（JSON）。"
        ),
    )
    solve_parser.add_argument("instance", type=Path, help="实例 JSON 文件；- 表示从标准输入读取")
    solve_parser.add_argument("--time-limit", type=float, default=None, metavar="S", help="时间上限（秒，默认不限）")
    solve_parser.add_argument("--indent", type=int, default=None, help="JSON 缩进空格数（便于阅读）")
    solve_parser.set_defaults(func=run_solve)

    run = commands.add_parser(
        "run", help="对一个批次运行匹配，保存为编号的、不可更改的匹配结果"
                    "（同一批次一次只计算一次：控制台、机器人或命令行的另一次计算未结束时拒绝）",
        description="提交一个匹配任务，由计算进程（innoeng notifier、innoeng run 或 innoeng match worker）领取并计算；"
                    "默认等待它完成并在标准错误输出进度，结果输出到标准输出。中途按 Ctrl+C 只停止等待，计算照常进行。")
    run.add_argument("--batch", required=True, help="批次编号或名称")
    run.add_argument("--time-limit", type=float, default=10.0, metavar="S", help="时间上限（秒，默认 10）")
    run.add_argument("--json", action="store_true", help="以 JSON 输出结果（供脚本读取）")
    run.add_argument("--no-wait", action="store_true", help="只提交任务，输出任务编号后立即返回（innoeng match job 任务编号 查看）")
    run.set_defaults(func=run_batch)

    job = commands.add_parser("job", help="查看一个匹配任务（排队、计算中、完成、失败或中断）；--wait 等待它完成")
    job.add_argument("job", help="任务编号（match run --no-wait 输出的）")
    job.add_argument("--wait", action="store_true", help="等待任务完成，输出进度和结果")
    job.add_argument("--json", action="store_true", help="以 JSON 输出（供脚本读取）")
    job.set_defaults(func=show_job)

    worker = commands.add_parser("worker", help="单独运行一个匹配计算进程，领取并计算排队的匹配任务，Ctrl+C 停止"
                                                "（通知进程和 innoeng run 已含一个）")
    worker.set_defaults(func=run_worker)

    show = commands.add_parser("show", help="显示一次匹配：填补情况、配对及评分说明、未填补原因")
    show.add_argument("run", type=int, help="匹配编号")
    show.add_argument("--json", action="store_true", help="以 JSON 输出结果（供脚本读取）")
    show.set_defaults(func=show_run)

    export = commands.add_parser("export", help="把一次匹配导出为 xlsx：配对、未填补名额及原因、运行参数（上界与差距）")
    export.add_argument("run", type=int, help="匹配编号")
    export.add_argument("--out", type=Path, required=True, help="写入的 xlsx 文件路径")
    export.add_argument("--json", action="store_true", help="以 JSON 输出写入的文件路径（供脚本读取）")
    export.set_defaults(func=export_run)

    confirm = commands.add_parser("confirm", help="确认匹配结果（全部或部分配对），通知专家和高校答复")
    confirm.add_argument("run", type=int, help="匹配编号")
    confirm.add_argument("--pairs", type=int, nargs="+", metavar="序号",
                         help="只确认这些配对（本次匹配内的序号，从 1 起，与 match show 显示的一致）")
    confirm.add_argument("--json", action="store_true", help="以 JSON 输出结果（供脚本读取）")
    confirm.set_defaults(func=confirm_run)

    lift = commands.add_parser("lift-cap", help="为一位专家放宽受聘高校数上限（须记录理由）")
    lift.add_argument("expert", type=int, help="专家申请编号")
    lift.add_argument("--max", type=int, required=True, dest="max_universities", help="新的上限（所）")
    lift.add_argument("--reason", required=True, help="放宽的理由（记入审计日志）")
    lift.set_defaults(func=lift_cap)

    publicity = commands.add_parser(
        "publicity", help="公示名单（文本；--out 同时导出 xlsx）；--start 开始双方已确认的聘任的公示",
        description="不带 --start：列出双方已确认、待公示的聘任和公示中的聘任。带 --start：开始这些聘任的公示"
                    "（全部开始或全部不开始），公示期按工作日计。")
    publicity.add_argument("--start", type=int, nargs="+", metavar="聘任编号", help="开始这些聘任的公示")
    publicity.add_argument("--starts-on", metavar="日期", help="公示开始日期（默认次一工作日；不能早于今天）")
    publicity.add_argument("--out", type=Path, help="同时写入的 xlsx 文件路径")
    publicity.add_argument("--json", action="store_true", help="以 JSON 输出公示名单（供脚本读取）")
    publicity.set_defaults(func=publicity_list)

    filing = commands.add_parser("filing-export", help="导出备案表 xlsx（已签订协议和已备案的聘任）")
    filing.add_argument("--out", type=Path, required=True, help="写入的 xlsx 文件路径")
    filing.add_argument("--json", action="store_true", help="以 JSON 输出写入的文件路径和行数（供脚本读取）")
    filing.set_defaults(func=filing_export)


def _fail(problems: list[str]) -> int:
    print("匹配实例有误：", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_BAD_INSTANCE


def run_solve(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if str(args.instance) == "-" else args.instance.read_text(encoding="utf-8")
    except OSError as exc:
        return _fail([f"无法读取 {args.instance}：{exc.strerror or exc}"])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _fail([f"不是有效的 JSON：{exc.msg}（第 {exc.lineno} 行第 {exc.colno} 列）"])
    if args.time_limit is not None and args.time_limit < 0:
        return _fail(["--time-limit 不能为负数"])
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
        state = "此前已确认" if p.fixed else (
            f"聘任 {p.appointment_id}" if p.appointment_id else ("暂缓" if p.held else "待确认"))
        print(f"  {p.number}. {p.university_name}《{p.course}》← {p.expert_name}（{p.employer}） 分 {p.score:.3f} [{state}]")
        print(f"      {p.explanation}")
    for slot in run.unfilled:
        print(f"  未填补：{slot.get('university_name') or slot.get('university')}《{slot.get('course') or slot.get('demand')}》"
              f"缺 {slot.get('missing')} 人——{slot.get('explanation')}")


def _run_json(run) -> dict:
    return {
        "id": run.id, "batch_id": run.batch_id, "status": run.solver_status, "filled": run.filled,
        "total_need": run.total_need, "score": run.score, "bound": run.bound, "gap": run.gap, "time_s": run.time_s,
        "confirmed": run.confirmed, "params": run.params, "unfilled": run.unfilled, "stability": run.stability,
        "proposals": [
            {"id": p.id, "number": p.number, "held": p.held, "expert_application_id": p.expert_application_id, "expert": p.expert_name,
             "university_application_id": p.university_application_id, "university": p.university_name,
             "course": p.course, "score": p.score, "fixed": p.fixed, "appointment_id": p.appointment_id,
             "explanation": p.explanation}
            for p in run.proposals
        ],
    }


def _output_run(run, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_run_json(run), ensure_ascii=False, indent=2, default=str))
    else:
        _print_run(run)


def _written(path: Path, as_json: bool, what: str, **extra) -> None:
    """Every file a command writes is named with its full path, for people and for scripts."""
    where = str(path.resolve())
    if as_json:
        print(json.dumps({"written": where, **extra}, ensure_ascii=False))
    else:
        print(f"已写入{what}：{where}")


def _job_json(job) -> dict:
    return {"job": job.id, "batch_id": job.batch_id, "state": str(job.state), "run_id": job.run_id,
            "error": job.error, "attempts": job.attempts, "progress": job.progress, "seconds": job.seconds}


async def _follow(core, job_id: str, as_json: bool) -> int:
    """Waits for the job, its progress on stderr; the run on stdout (exit 0), or why not (stderr, exit 2).
    Ctrl+C stops the waiting only: the job stays with its worker (exit 130, with the way back to it)."""
    from core.services.matching_jobs import JobState

    def progress(job) -> None:
        if not job.state.finished:
            print(job.progress_text, file=sys.stderr, flush=True)

    standby = asyncio.ensure_future(_solve_if_nobody_does(core, job_id))
    try:
        job = await core.matching.jobs.wait(job_id=job_id, on_change=progress)
    except (asyncio.CancelledError, KeyboardInterrupt):
        print(f"已停止等待；匹配任务 {job_id} 仍在后台计算：innoeng match job {job_id} --wait", file=sys.stderr)
        return 130
    finally:
        standby.cancel()  # a job in its hands goes back to the queue (MatchingWorker.execute releases it)
        with contextlib.suppress(asyncio.CancelledError):
            await standby
    if job.state is not JobState.DONE:
        if as_json:
            print(json.dumps(_job_json(job), ensure_ascii=False, indent=2, default=str))
        print(job.error, file=sys.stderr)
        return 2
    _output_run(await core.matching.get(run_id=job.run_id, staff=operator()), as_json)
    return 0


# A job nobody has claimed this long after it was asked for: no notifier or `match worker` is running, and the
# waiting CLI solves it itself, through the same claim (a worker that looks at the same moment gets it instead).
_NOBODY_S = 5.0


async def _solve_if_nobody_does(core, job_id: str) -> None:
    from core.services.matching_worker import MatchingWorker

    await asyncio.sleep(_NOBODY_S)
    worker = MatchingWorker(core.matching)
    job = await core.matching.jobs.claim(worker=worker.id, job_id=job_id)
    if job is not None:
        print(text_of("match.job.solving_here"), file=sys.stderr, flush=True)
        await worker.execute(job)


def run_batch(args: argparse.Namespace) -> int:
    async def action(core):
        batch = await core.batches.get(ref=str(args.batch))
        job = await core.matching.request_run(batch_id=batch.id, staff=operator(), time_limit=args.time_limit)
        if args.no_wait:
            print(json.dumps(_job_json(job), ensure_ascii=False) if args.json else job.id)
            return 0
        print(text_of("match.job.requested", job=job.id, batch=job.batch_name), file=sys.stderr, flush=True)
        return await _follow(core, job.id, args.json)

    return _interruptible(action)


def show_job(args: argparse.Namespace) -> int:
    async def action(core):
        job = await core.matching.job(job_id=args.job, staff=operator())
        if args.wait:
            return await _follow(core, job.id, args.json)
        if args.json:
            print(json.dumps(_job_json(job), ensure_ascii=False, indent=2, default=str))
        else:
            print(f"匹配任务 {job.id}（批次「{job.batch_name}」，{job.staff}）：{_STATES[job.state]}"
                  + (f"，第 {job.run_id} 次匹配" if job.run_id else ""))
            if job.state.value in ("queued", "running") or job.error:
                print(job.progress_text)
        return 0

    return _interruptible(action)


def run_worker(args: argparse.Namespace) -> int:
    from core.log_masking import configure_logging

    configure_logging(logging.INFO)

    async def action(core):
        from core.services.matching_worker import MatchingWorker

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(signum, stop.set)
        worker = MatchingWorker(core.matching)
        print(f"匹配计算进程已启动（{worker.id}），按 Ctrl+C 停止（正在计算的任务会先算完）。", flush=True)
        await worker.run(stop)

    run_with_core(action)
    return 0


_STATES = {"queued": "排队中", "running": "计算中", "done": "已完成", "failed": "失败", "interrupted": "已中断"}


def _interruptible(action) -> int:
    """run_or_refuse, and Ctrl+C while waiting is no traceback."""
    try:
        return run_or_refuse(action)
    except KeyboardInterrupt:
        return 130


def show_run(args: argparse.Namespace) -> int:
    async def action(core):
        _output_run(await core.matching.get(run_id=args.run, staff=operator()), args.json)

    return run_or_refuse(action)


def export_run(args: argparse.Namespace) -> int:
    from core.exports import run_workbook

    async def action(core):
        run = await core.matching.get(run_id=args.run, staff=operator())
        args.out.write_bytes(run_workbook(run, kept=await core.appointments.kept_by(run=run, staff=operator())))
        _written(args.out, args.json, f"第 {run.id} 次匹配（配对、未填补名额、运行参数）", run=run.id)

    return run_or_refuse(action)


def confirm_run(args: argparse.Namespace) -> int:
    async def action(core):
        ids = None
        if args.pairs:
            by_number = {p.number: p.id for p in (await core.matching.get(run_id=args.run, staff=operator())).proposals}
            unknown = [n for n in args.pairs if n not in by_number]
            if unknown:
                raise DomainError(f"第 {args.run} 次匹配中没有序号为 {'、'.join(map(str, unknown))} 的配对。")
            ids = [by_number[n] for n in args.pairs]
        _output_run(await core.matching.confirm(run_id=args.run, staff=operator(), proposal_ids=ids), args.json)

    return run_or_refuse(action)


def lift_cap(args: argparse.Namespace) -> int:
    async def action(core):
        await core.matching.lift_cap(expert_application_id=args.expert, max_universities=args.max_universities,
                                     reason=args.reason, staff=operator())
        print(f"已将专家申请 {args.expert} 的受聘高校数上限放宽为 {args.max_universities} 所。")

    return run_or_refuse(action)


def _publicity_start(args: argparse.Namespace) -> int:
    from core.forms.normalize import parse_date

    async def action(core):
        starts_on = None
        if args.starts_on:
            starts_on = parse_date(args.starts_on)
            if starts_on is None:
                raise DomainError(f"公示开始日期应为日期（例如 2025-08-15），您输入的是「{args.starts_on}」。")
        started = await core.appointments.start_publicity(appointment_ids=args.start, staff=operator(), starts_on=starts_on)
        first = started[0]
        warnings = core.appointments.calendar_warnings(
            years=range(first.publicity_starts_on.year, first.publicity_ends_on.year + 1))
        if args.json:
            print(json.dumps({"started": [a.id for a in started], "starts_on": str(first.publicity_starts_on),
                              "ends_on": str(first.publicity_ends_on), "warnings": warnings}, ensure_ascii=False, indent=2))
            return
        print(f"已开始公示 {len(started)} 对（聘任编号 {'、'.join(str(a.id) for a in started)}）："
              f"{first.publicity_starts_on} 至 {first.publicity_ends_on}，共 {core.settings.publicity_working_days} 个工作日。")
        for warning in warnings:
            print(warning)

    return run_or_refuse(action)


def publicity_list(args: argparse.Namespace) -> int:
    from core.exports import publicity_text, publicity_workbook

    if args.start:
        return _publicity_start(args)

    async def action(core):
        awaiting = await core.appointments.list(statuses=["accepted"], staff=operator())
        listed = await core.appointments.list(statuses=["publicity"], staff=operator())
        warnings = core.appointments.calendar_warnings(
            years={d.year for a in listed for d in (a.publicity_starts_on, a.publicity_ends_on) if d})
        if args.out:
            args.out.write_bytes(publicity_workbook(listed))
        if args.json:
            print(json.dumps({
                "appointments": [{"id": a.id, "university": a.university_name, "expert": a.expert_name,
                                  "employer": a.employer, "course": a.course, "hours": a.hours,
                                  "starts_on": str(a.publicity_starts_on), "ends_on": str(a.publicity_ends_on)}
                                 for a in listed],
                "awaiting": [{"id": a.id, "university": a.university_name, "expert": a.expert_name,
                              "employer": a.employer, "course": a.course, "hours": a.hours} for a in awaiting],
                "written": str(args.out.resolve()) if args.out else None, "warnings": warnings,
            }, ensure_ascii=False, indent=2))
            return
        if awaiting:
            print(f"双方已确认、待公示 {len(awaiting)} 对（innoeng match publicity --start 聘任编号… 开始公示）：")
            for a in awaiting:
                print(f"  ［聘任编号 {a.id}］{a.university_name}《{a.course}》← {a.expert_name}（{a.employer}）")
        print(publicity_text(listed))
        for warning in warnings:
            print(warning)
        if args.out:
            _written(args.out, False, "公示名单")

    return run_or_refuse(action)


def filing_export(args: argparse.Namespace) -> int:
    from core.exports import filing_workbook

    async def action(core):
        listed = await core.appointments.list(statuses=["agreed", "filed"], staff=operator())
        args.out.write_bytes(filing_workbook(listed))
        _written(args.out, args.json, "备案表", rows=len(listed))

    return run_or_refuse(action)
