"""Intake bot throughput: N people fill in the expert form at once, against a bare aiogram echo bot.

    python benchmarks/bot_throughput.py [--users 500] [--db sqlite|postgresql] [--profile out.pstats]

One run, two phases, the same harness and the same local Bot API stand-in:

1. the real bot, as production runs it: `python -m innoeng bot` in its own process
   (BOT_TOKEN / BOT_API_URL pointing at the stand-in, DATABASE_URL a throwaway
   SQLite file or a throwaway PostgreSQL database that is dropped afterwards);
   N simulated people, each in their own chat, all at once, go /start → consent →
   role → every question of the expert form (buttons for choices, toggles for
   multi-choice, typed text, the certificate upload as a document) → 提交, reading
   only what the bot shows them;
2. the baseline: a bare aiogram echo bot (one Dispatcher, one handler for every
   message and one for every callback, each reply carrying an inline button) in
   its own process, built with the same `bot.factory.create_bot`, polling the same
   stand-in under a second token; N people replay exactly the sequence of actions
   (text / button / document) one person needed in phase 1.

An interaction is one action of a person (a message, a button press, an upload)
and its latency the time from sending it to seeing the bot's next question (notes
such as "✓ 已记录" are skipped, as a person would skip them; for a toggle of a
multi-choice question it is the edited message). answers_per_s and echo_per_s are
interactions completed per second of wall time, all people together.

The stand-in and the people (the harness) run in this process; each bot runs in
its own process, whose peak RSS (VmHWM) and CPU time are read from /proc. The
machine's cores are shared by the harness and the bot, so the harness's CPU time
is printed too: when it is near 100% of one core the stand-in/harness (its HTTP
long polling), not the bot, limits the rate.

--profile PATH runs the real bot under cProfile (slower; numbers of that run are
not representative) and prints the top functions to stderr.

The last stdout line is one JSON object with the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# --------------------------------------------------------------------------------------------------
# the echo bot (runs as `python benchmarks/bot_throughput.py --serve-echo`, env BOT_TOKEN, BOT_API_URL)


def serve_echo() -> int:
    from aiogram import Dispatcher
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    from bot.factory import create_bot

    # The same log configuration as `innoeng bot` (aiogram logs every handled update at INFO).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="echo", callback_data="echo")]])
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        await message.answer(message.text or "received", reply_markup=keyboard)

    @dispatcher.callback_query()
    async def on_callback(callback: CallbackQuery) -> None:
        await callback.answer()
        await callback.message.answer(f"pressed {callback.data}", reply_markup=keyboard)

    async def run() -> None:
        bot = create_bot(os.environ["BOT_TOKEN"], os.environ["BOT_API_URL"])
        try:
            await bot.delete_webhook(drop_pending_updates=False)
            # handle_signals: SIGTERM stops polling cleanly, as `innoeng bot` does
            await dispatcher.start_polling(bot, polling_timeout=10, close_bot_session=False)
        finally:
            await bot.session.close()

    asyncio.run(run())
    return 0


if __name__ == "__main__" and "--serve-echo" in sys.argv:
    # The baseline process imports aiogram and bot.factory only, not the project's core.
    sys.exit(serve_echo())

import aiohttp  # noqa: E402

from bot.sandbox import BotMessage, SandboxClient, SandboxServer  # noqa: E402
from bot.sandbox.world import DEFAULT_TOKEN  # noqa: E402
from core.forms import FORMS, Form, Kind, Question  # noqa: E402
from core.forms.model import FollowUp  # noqa: E402
from core.sample import SAMPLE_PDF  # noqa: E402

ECHO_TOKEN = "1000000002:innoeng-echo-baseline"
POSTGRES_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
DEADLINE = (date.today() + timedelta(days=60)).isoformat()
ROLE_EXPERT = "我是企业专家（申请产业兼职教师）"
PROGRESS = re.compile(r"^第 (\d+)/(\d+) 题")
NOTES = ("✓ 已记录", "也可以点击下方按钮")
WAIT_S = 120.0  # per bot reply; generous, 500 people at once queue up

# The same answers as the e2e tests (tests/e2e/bot/conftest.py), copied so benchmarks do not import tests.
EXPERT_ANSWERS: dict[str, Any] = {
    "name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "zhangsan@example.com",
    "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
    "years_at_employer": "10", "position": "总工程师", "education": "master", "title": "senior_associate",
    "priority_conditions": ["major_invention_patent"], "priority_description": "发明专利 ZL2019 一项",
    "society_member": True, "courses": ["创新思维", "技术创新方法"], "duties": ["teaching", "co_developing"],
    "teaching_mode": "both", "available_times": ["weekend_intensive"], "offline_provinces": ["北京", "天津"],
    "max_universities": "2", "employer_consent": True, "proof_files": [("学位证书.pdf", SAMPLE_PDF)],
    "profile": "二十年产品研发经验，长期运用 TRIZ 解决工程难题，带领团队完成多项技术攻关。", "declaration": True,
}


# --------------------------------------------------------------------------------------------------
# people


def _questions(form: Form) -> list[tuple[str | None, Question]]:
    found: list[tuple[str | None, Question]] = []
    for entry in form.entries:
        if isinstance(entry, FollowUp):
            found.extend((entry.key, q) for q in entry.questions)
        else:
            found.append((None, entry))
    return found


EXPERT_QUESTIONS = _questions(FORMS["expert"])


def step_of(message: BotMessage) -> tuple[str, Question]:
    """Which question a message shows, by its prompt text (as tests/support/chat.py does)."""
    lines = message.text.split("\n")
    prompt = lines[2] if len(lines) > 2 else ""
    item_match = re.match(r"^【(.+?)】(.*)$", prompt)
    for group, question in EXPERT_QUESTIONS:
        if item_match and group and question.prompt == item_match[2]:
            return f"{group}[{item_match[1]}].{question.key}", question
        if not item_match and group is None and question.prompt == prompt:
            return question.key, question
    raise LookupError(f"not a question of the expert form: {message.text!r}")


class Failed(RuntimeError):
    pass


@dataclass
class Person:
    people: SandboxClient
    user_id: int
    latencies: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    async def _timed(self, kind: str, action: Awaitable[Any], reply: Callable[[], Awaitable[BotMessage]]) -> BotMessage:
        started = time.perf_counter()
        await action
        message = await reply()
        self.latencies.append(time.perf_counter() - started)
        self.kinds.append(kind)
        return message

    async def next_prompt(self) -> BotMessage:
        while True:
            message = await self.people.next_message(self.user_id, timeout=WAIT_S)
            if not message.text.startswith(NOTES):
                return message

    async def next_message(self) -> BotMessage:
        return await self.people.next_message(self.user_id, timeout=WAIT_S)

    async def next_edit(self) -> BotMessage:
        return await self.people.next_edit(self.user_id, timeout=WAIT_S)

    async def say(self, text: str) -> BotMessage:
        return await self._timed("text", self.people.send_text(self.user_id, text), self.next_prompt)

    async def press(self, message: BotMessage, label: str, reply: Callable[[], Awaitable[BotMessage]] | None = None
                    ) -> BotMessage:
        return await self._timed("button", self.people.press_button(self.user_id, message, label),
                                 reply or self.next_prompt)

    async def upload(self, name: str, content: bytes, reply: Callable[[], Awaitable[BotMessage]] | None = None
                     ) -> BotMessage:
        return await self._timed("document", self.people.send_document(self.user_id, content, name, "application/pdf"),
                                 reply or self.next_prompt)

    # the intake bot

    async def _notice(self) -> BotMessage:
        """After /start: the welcome, then the privacy notice with its consent buttons."""
        while True:
            message = await self.next_message()
            if "同意并继续" in message.buttons:
                return message

    async def answer(self, message: BotMessage, value: Any) -> BotMessage:
        _, question = step_of(message)
        if question.kind is Kind.SINGLE:
            return await self.press(message, question.choice_label(value))
        if question.kind is Kind.YES_NO:
            return await self.press(message, "是" if value else "否")
        if question.kind is Kind.MULTI:
            current = message
            for item in value:
                current = await self.press(current, question.choice_label(item), self.next_edit)
            return await self.press(current, "完成")
        if question.kind is Kind.FILE:
            receipt = message
            for name, content in value:
                receipt = await self.upload(name, content, self.next_message)
                if "已收到" not in receipt.text:
                    raise Failed(f"upload refused: {receipt.text!r}")
            return await self.press(receipt, "完成")
        if value is None:
            return await self.press(message, "跳过")
        return await self.say(str(value))

    async def apply_as_expert(self) -> str:
        """The whole expert form, /start to the receipt; returns the receipt text."""
        notice = await self._timed("text", self.people.send_text(self.user_id, "/start"), self._notice)
        roles = await self.press(notice, "同意并继续")
        message = await self.press(roles, ROLE_EXPERT)
        while True:
            if "敏感个人信息" in message.text:
                message = await self.press(message, "同意上传")
                continue
            if not PROGRESS.match(message.text):
                break
            key, _ = step_of(message)
            message = await self.answer(message, EXPERT_ANSWERS.get(key))
        if "请核对" not in message.text:
            raise Failed(f"expected the review page, got {message.text!r}")
        receipt = await self.press(message, "✅ 提交")
        if "已提交" not in receipt.text:
            raise Failed(f"expected the receipt, got {receipt.text!r}")
        return receipt.text

    # the echo bot

    async def replay(self, kinds: list[str]) -> None:
        last: BotMessage | None = None
        for n, kind in enumerate(kinds):
            if kind == "button" and last is not None:
                last = await self.press(last, "echo", self.next_message)
            elif kind == "document":
                last = await self.upload("学位证书.pdf", SAMPLE_PDF, self.next_message)
            else:
                last = await self._timed("text", self.people.send_text(self.user_id, f"答案 {n}"), self.next_message)


# --------------------------------------------------------------------------------------------------
# processes


def _proc_status(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    except OSError:
        return None
    return None


def _proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores together, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


def _cpu_by_group(bot_pid: int) -> dict[str, float]:
    """CPU seconds so far of every process on the machine, grouped: bot, harness, postgres, other."""
    groups = {"bot": 0.0, "harness": 0.0, "postgres": 0.0, "other": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick
        pid = int(entry.name)
        if pid == bot_pid:
            groups["bot"] += cpu
        elif pid == os.getpid():
            groups["harness"] += cpu
        elif comm.startswith("postgres"):
            groups["postgres"] += cpu
        else:
            groups["other"] += cpu
    return groups


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class BotProcess:
    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "BotProcess":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"bot process exited with {self.process.returncode}; log:\n{self.tail()}")

    def errors(self) -> dict[str, int]:
        """Exception types in the log's tracebacks (the bot logs every failed update), counted."""
        found: dict[str, int] = {}
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
            for before, line in zip(lines, lines[1:] + [""]):
                if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout\w*)\b", before) and not line.startswith(" "):
                    name = before.split(":", 1)[0]
                    found[name] = found.get(name, 0) + 1
        return found

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        return ""

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(300):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


# --------------------------------------------------------------------------------------------------
# a phase: start a bot, warm it up, N people at once, read the process's numbers


@dataclass
class PhaseResult:
    wall_s: float
    latencies: list[float]
    interactions: int
    completed: int
    failures: list[str]
    kinds: list[str]
    rss_mb: float | None
    bot_cpu_s: float | None
    harness_cpu_s: float
    machine_busy_pct: float | None
    cpu_pct: dict[str, float]
    db: dict[str, int]


async def run_phase(name: str, bot: BotProcess, people: SandboxClient, users: list[int],
                    act: Callable[[Person], Awaitable[Any]], warmup_user: int,
                    db_counters: Callable[[], Awaitable[dict[str, int]]] | None = None) -> PhaseResult:
    bot.start()
    try:
        # Warm-up (not measured): one person goes through the whole flow; it also waits for the bot to be polling.
        warm = Person(people, warmup_user)
        try:
            await asyncio.wait_for(act(warm), 90)
        except Exception as error:
            raise RuntimeError(f"{name}: the warm-up person did not get through ({error!r}); "
                               f"bot log:\n{bot.tail()}") from error
        kinds = warm.kinds
        cpu_before = _proc_cpu_s(bot.pid)
        harness_before = _self_cpu_s()
        machine_before = _machine_busy()
        groups_before = _cpu_by_group(bot.pid)
        counters_before = await db_counters() if db_counters else {}

        persons = [Person(people, user) for user in users]
        failures: list[str] = []

        async def one(person: Person) -> bool:
            try:
                await act(person)
                return True
            except Exception as error:  # noqa: BLE001 - a person failing is a result, not a crash
                failures.append(f"user {person.user_id}: {type(error).__name__}: {error}"[:300])
                return False

        started = time.perf_counter()
        done = await asyncio.gather(*(one(person) for person in persons))
        wall = time.perf_counter() - started

        cpu_after = _proc_cpu_s(bot.pid)
        harness_cpu = _self_cpu_s() - harness_before
        machine_after = _machine_busy()
        groups_after = _cpu_by_group(bot.pid)
        cpu_pct = {k: round(100 * (groups_after[k] - groups_before[k]) / wall, 1) for k in groups_after}
        machine_total = machine_after[1] - machine_before[1]
        machine_busy = 100 * (machine_after[0] - machine_before[0]) / machine_total if machine_total else None
        if machine_busy is not None:
            # busy time of all cores not explained by live processes: jobs that started and ended meanwhile
            cpu_pct["unaccounted"] = round(machine_busy * (os.cpu_count() or 1) - sum(cpu_pct.values()), 1)
        bot.check_alive()
        hwm = _proc_status(bot.pid, "VmHWM")
        latencies = [s for person in persons for s in person.latencies]
        db_delta: dict[str, int] = {}
        if db_counters:
            await bot.stop()  # its backends exit and flush their statistics
            await asyncio.sleep(0.5)
            counters_after = await db_counters()
            db_delta = {k: counters_after[k] - counters_before.get(k, 0) for k in counters_after}
        return PhaseResult(
            wall_s=wall, latencies=latencies, interactions=len(latencies), completed=sum(done), failures=failures,
            kinds=kinds, rss_mb=hwm / 1024 if hwm is not None else None,
            bot_cpu_s=(cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None,
            harness_cpu_s=harness_cpu, machine_busy_pct=machine_busy,
            cpu_pct=cpu_pct, db=db_delta,
        )
    finally:
        await bot.stop()


# --------------------------------------------------------------------------------------------------
# databases


@contextlib.asynccontextmanager
async def throwaway_database(kind: str, workdir: Path):
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
        return
    import asyncpg

    name = f"innoeng_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def postgres_counters(database_url: str) -> dict[str, int]:
    """Transactions and rows of the benchmark's database so far (pg_stat_database)."""
    import asyncpg

    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        row = await admin.fetchrow(
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted "
            "FROM pg_stat_database WHERE datname = $1", name)
    finally:
        await admin.close()
    return dict(row) if row else {}


# --------------------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _print_profile(path: Path, top: int) -> None:
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"\n--- cProfile of the real bot, top {top} by {order} ---", file=sys.stderr)
        stats = pstats.Stats(str(path), stream=sys.stderr)  # full paths: hotspots as file:line
        stats.sort_stats(order).print_stats(top)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    _raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="innoeng-bench-"))
    try:
        async with throwaway_database(args.db, workdir) as database_url:
            stand_in = await SandboxServer("127.0.0.1", 0, tokens=(DEFAULT_TOKEN, ECHO_TOKEN)).start()
            # No connection cap: every person has a long poll open while others act.
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, limit_per_host=0))
            try:
                base_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEBHOOK_URL")}
                base_env.update({"BOT_API_URL": stand_in.base_url, "PYTHONUNBUFFERED": "1"})
                real_env = {
                    **base_env,
                    "BOT_TOKEN": DEFAULT_TOKEN,
                    "DATABASE_URL": database_url,
                    "DOCUMENTS_DIR": str(workdir / "documents"),
                    "DATA_DIR": str(workdir),
                    "DEFAULT_BATCH_DEADLINE": DEADLINE,
                    "STAFF_TELEGRAM_IDS": "",
                }
                python = sys.executable
                real_argv = [python, "-m", "innoeng", "bot"]
                if args.profile:
                    real_argv = [python, "-m", "cProfile", "-o", str(Path(args.profile).resolve()), "-m", "innoeng", "bot"]

                users = list(range(1_000_001, 1_000_001 + args.users))
                real_people = SandboxClient(stand_in.base_url, DEFAULT_TOKEN, session=session)
                print(f"[bench] real bot ({args.db}): {args.users} people filling in the expert form at once",
                      file=sys.stderr, flush=True)
                real_bot = BotProcess(real_argv, real_env, workdir / "bot.log")
                real = await run_phase("real bot", real_bot, real_people,
                                       users, lambda p: p.apply_as_expert(), warmup_user=999_999,
                                       db_counters=(lambda: postgres_counters(database_url))
                                       if args.db == "postgresql" else None)
                _report_phase("real bot", real)
                real_errors = real_bot.errors()
                if real_errors:
                    print(f"[bench] exceptions in the real bot's log: {real_errors}", file=sys.stderr, flush=True)

                echo_env = {**base_env, "BOT_TOKEN": ECHO_TOKEN}
                echo_argv = [python, str(Path(__file__).resolve()), "--serve-echo"]
                echo_people = SandboxClient(stand_in.base_url, ECHO_TOKEN, session=session)
                kinds = real.kinds
                print(f"[bench] echo bot: {args.users} people, {len(kinds)} interactions each", file=sys.stderr,
                      flush=True)
                echo = await run_phase("echo bot", BotProcess(echo_argv, echo_env, workdir / "echo.log"), echo_people,
                                       [2_000_001 + i for i in range(args.users)], lambda p: p.replay(kinds),
                                       warmup_user=1_999_999)
                _report_phase("echo bot", echo)
            finally:
                await session.close()
                await stand_in.stop()
    finally:
        if args.keep:
            print(f"[bench] kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if args.profile:
        _print_profile(Path(args.profile), args.profile_top)

    answers_per_s = real.interactions / real.wall_s
    echo_per_s = echo.interactions / echo.wall_s
    return {
        "users": args.users,
        "db": args.db,
        "answers_per_s": round(answers_per_s, 1),
        "echo_per_s": round(echo_per_s, 1),
        "ratio": round(answers_per_s / echo_per_s, 3),
        "p50_ms": round(_percentile(real.latencies, 50) * 1000, 1),
        "p95_ms": round(_percentile(real.latencies, 95) * 1000, 1),
        "rss_mb": round(real.rss_mb, 1) if real.rss_mb is not None else None,
        "interactions": real.interactions,
        "interactions_per_user": len(real.kinds),
        "completed": real.completed,
        "bot_exceptions": real_errors,
        "failed": args.users - real.completed,
        "wall_s": round(real.wall_s, 2),
        "echo_wall_s": round(echo.wall_s, 2),
        "echo_p50_ms": round(_percentile(echo.latencies, 50) * 1000, 1),
        "echo_p95_ms": round(_percentile(echo.latencies, 95) * 1000, 1),
        "echo_rss_mb": round(echo.rss_mb, 1) if echo.rss_mb is not None else None,
        # % of one core during each phase; "other" is everything else on the machine (other users' jobs too)
        "cpu_pct": real.cpu_pct,
        "echo_cpu_pct": echo.cpu_pct,
        "machine_busy_pct": _round(real.machine_busy_pct),
        "echo_machine_busy_pct": _round(echo.machine_busy_pct),
        **({"db_commits_per_interaction": round(real.db["xact_commit"] / real.interactions, 1),
            "db_rollbacks_per_interaction": round(real.db["xact_rollback"] / real.interactions, 1),
            "db_rows_inserted_updated_per_interaction":
                round((real.db["tup_inserted"] + real.db["tup_updated"]) / real.interactions, 1)}
           if real.db and real.interactions else {}),
        "cpus": os.cpu_count(),
        "profiled": bool(args.profile),
        "baseline": "bare aiogram echo bot (own process) over the same stand-in",
        "rss_of": "VmHWM of the `python -m innoeng bot` process; stand-in and simulated people run in the harness",
    }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _pct(cpu_s: float | None, wall_s: float) -> float | None:
    return round(100 * cpu_s / wall_s, 1) if cpu_s is not None and wall_s > 0 else None


def _report_phase(name: str, result: PhaseResult) -> None:
    lat = result.latencies
    print(f"[bench] {name}: {result.completed} people done, {result.interactions} interactions in "
          f"{result.wall_s:.1f} s = {result.interactions / result.wall_s:.1f}/s; "
          f"p50 {_percentile(lat, 50) * 1000:.1f} ms, p95 {_percentile(lat, 95) * 1000:.1f} ms, "
          f"max {max(lat, default=0) * 1000:.1f} ms; mean {statistics.fmean(lat) * 1000 if lat else 0:.1f} ms; "
          f"peak RSS {result.rss_mb} MB; bot CPU {result.bot_cpu_s} s; harness CPU {result.harness_cpu_s:.1f} s; "
          f"all cores busy {_round(result.machine_busy_pct)}%; % of a core by process group {result.cpu_pct}",
          file=sys.stderr, flush=True)
    for failure in result.failures[:10]:
        print(f"[bench]   failed: {failure}", file=sys.stderr)
    if len(result.failures) > 10:
        print(f"[bench]   ... and {len(result.failures) - 10} more failures", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=500, help="simulated people at once (default 500)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", metavar="PATH", help="run the real bot under cProfile, stats to PATH")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (bot logs, SQLite file)")
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
