"""Intake bot throughput: N people fill in the expert form at once, against a bare aiogram echo bot.

    python benchmarks/bot_throughput.py [--users 500] [--db sqlite|postgresql] [--profile out.pstats]
    python benchmarks/bot_throughput.py --db postgresql --rate 100 [--think-s 2] [--duration-s 20]
    python benchmarks/bot_throughput.py --db postgresql --workers 2 --redis [--users 200]

Three modes, each with the echo bot beside it in the same run:

- closed loop (default): N people at once, each acting as soon as they see the bot's reply;
- open loop (--rate R): people arrive at random and pause between answers (exponential, mean --think-s),
  so that R answers/s are offered whatever the bot does; prints p50/p95/p99 at R and, from a sweep around
  R (--rates), the highest rate at which p95 stays under 150 ms, for our bot and for the echo bot;
- scale-out (--workers N --redis): webhook mode (the stand-in posts like Telegram: chats concurrently,
  one chat's updates one at a time), REDIS_URL set, `innoeng bot --workers k` for k = 1 and N in the same
  run, closed loop; prints answers/s per k with the CPU split (bots, harness, PostgreSQL, Redis) and the CPU
  seconds per answer, from which the cores needed for 1,000 answers/s follow.

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

--profile PATH runs the real bot under cProfile, timing CPU (not wall) time (slower; numbers of that
run are not representative) and prints the top functions to stderr.

The last stdout line is one JSON object with the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
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

    async def run_webhook(bot) -> None:
        # The same webhook shape as `innoeng bot`: answered after the handler, secret checked by aiogram.
        from aiohttp import web
        from aiogram.webhook.aiohttp_server import SimpleRequestHandler

        app = web.Application()
        SimpleRequestHandler(dispatcher=dispatcher, bot=bot, handle_in_background=False,
                             secret_token=os.environ["WEBHOOK_SECRET"]).register(app, path="/telegram/webhook")
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(os.environ["WEBHOOK_PORT"])).start()
        await bot.set_webhook(os.environ["WEBHOOK_URL"], secret_token=os.environ["WEBHOOK_SECRET"],
                              max_connections=40)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    async def run() -> None:
        bot = create_bot(os.environ["BOT_TOKEN"], os.environ["BOT_API_URL"])
        try:
            if os.environ.get("WEBHOOK_URL"):
                await run_webhook(bot)
                return
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


class Stopped(Exception):
    """The open-loop run is over: this person stops before their next action."""


@dataclass
class Person:
    people: SandboxClient
    user_id: int
    latencies: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    # open loop: seconds to pause before each action, and when to stop acting
    think: Callable[[], float] | None = None
    stop_at: float | None = None

    async def _timed(self, kind: str, action: Awaitable[Any], reply: Callable[[], Awaitable[BotMessage]]) -> BotMessage:
        if self.think is not None:
            pause = self.think()
            if self.stop_at is not None:
                # A long pause (the exponential's tail) running past the end is the end: waiting it out
                # counted a person who had every answer as unanswered.
                pause = min(pause, max(0.0, self.stop_at - time.perf_counter()))
            await asyncio.sleep(pause)
        if self.stop_at is not None and time.perf_counter() >= self.stop_at:
            if asyncio.iscoroutine(action):
                action.close()
            raise Stopped()
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


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_by_group(bot_pid: int) -> dict[str, float]:
    """CPU seconds so far of every process on the machine, grouped: bot (with its workers), harness, postgres,
    redis, other."""
    groups = {"bot": 0.0, "harness": 0.0, "postgres": 0.0, "redis": 0.0, "other": 0.0}
    bot_pids = {bot_pid, *_children(bot_pid)}
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
        if pid in bot_pids:
            groups["bot"] += cpu
        elif pid == os.getpid():
            groups["harness"] += cpu
        elif comm.startswith("postgres"):
            groups["postgres"] += cpu
        elif comm.startswith("redis"):
            groups["redis"] += cpu
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

    def cpu_s(self) -> float | None:
        """The process and its workers (`innoeng bot --workers N` runs N children)."""
        values = [_proc_cpu_s(pid) for pid in (self.pid, *_children(self.pid))]
        return sum(v for v in values if v is not None) if values[0] is not None else None

    def peak_rss_kb(self) -> int | None:
        """The largest one process's VmHWM (each worker is a process of its own)."""
        values = [_proc_status(pid, "VmHWM") for pid in (self.pid, *_children(self.pid))]
        values = [v for v in values if v is not None]
        return max(values) if values else None

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


@dataclass
class OpenLoop:
    """R answers/s offered: R x think_s people, each pausing think_s on average (exponential) before every
    action, start at random moments; one who finishes the form is replaced by a newcomer."""
    rate: float
    think_s: float
    duration_s: float


async def _open_loop(people: SandboxClient, first_user: int, act: Callable[[Person], Awaitable[Any]],
                     load: OpenLoop, failures: list[str]) -> list[Person]:
    rng = random.Random(first_user)
    stop_at = time.perf_counter() + load.duration_s
    persons: list[Person] = []
    next_user = iter(range(first_user, first_user + 10**6))

    seated: dict[asyncio.Task, Person] = {}

    async def seat() -> None:
        await asyncio.sleep(rng.uniform(0, load.think_s))
        while time.perf_counter() < stop_at:
            person = Person(people, next(next_user), think=lambda: rng.expovariate(1 / load.think_s), stop_at=stop_at)
            persons.append(person)
            seated[asyncio.current_task()] = person
            try:
                await act(person)
            except Stopped:
                return
            except Exception as error:  # noqa: BLE001 - a person failing is a result, not a crash
                failures.append(f"user {person.user_id}: {type(error).__name__}: {error}"[:300])

    seats = [asyncio.create_task(seat()) for _ in range(max(1, round(load.rate * load.think_s)))]
    # Past the end, a person still waiting for a reply is given GRACE_S more; then they count as unanswered
    # (an overloaded bot must not look fast because its slowest answers were never timed).
    done, waiting = await asyncio.wait(seats, timeout=load.duration_s + load.think_s + GRACE_S)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    for task in waiting:
        failures.append(f"unanswered at the end of the run: {await _last_exchange(people, seated.get(task))}"[:600])
    return persons


async def _last_exchange(people: SandboxClient, person: Person | None) -> str:
    """What the person sent last and what the bot did after it, to tell a lost reply from a slow one."""
    if person is None:
        return "?"
    try:
        messages = (await people.chat(person.user_id))["messages"][-3:]
    except Exception as error:  # noqa: BLE001 - a diagnostic must not hide the result
        return f"user {person.user_id}: chat unreadable ({error!r})"
    shown = [f"{m['direction']}:{(m['message'].get('text') or m['message'].get('caption') or '<file>')[:40]!r}" for m in messages]
    return f"user {person.user_id} after {len(person.latencies)} answers; last: {' | '.join(shown)}"


GRACE_S = 10.0


async def run_phase(name: str, bot: BotProcess, people: SandboxClient, users: list[int],
                    act: Callable[[Person], Awaitable[Any]], warmup_user: int,
                    db_counters: Callable[[], Awaitable[dict[str, int]]] | None = None,
                    load: OpenLoop | None = None) -> PhaseResult:
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
        cpu_before = bot.cpu_s()
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
        if load is None:
            done = await asyncio.gather(*(one(person) for person in persons))
        else:
            persons = await _open_loop(people, users[0], act, load, failures)
            done = [True] * (len(persons) - len(failures))
        wall = time.perf_counter() - started

        cpu_after = bot.cpu_s()
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
        hwm = bot.peak_rss_kb()
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


# cProfile on CPU time, not wall time: on a machine shared with other jobs, wall time charges every
# function for the moments the process was not even running.
_PROFILE_CPU = """
import cProfile, runpy, sys, time
out = sys.argv[1]
sys.argv = ["innoeng", *sys.argv[2:]]
profile = cProfile.Profile(time.process_time)
profile.enable()
try:
    runpy.run_module("innoeng", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    profile.disable()
    profile.dump_stats(out)
"""
WEBHOOK_SECRET = "bench-webhook-secret_0123456789"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
P95_TARGET_S = 0.150


@dataclass
class Harness:
    args: argparse.Namespace
    workdir: Path
    database_url: str
    stand_in: SandboxServer
    session: aiohttp.ClientSession
    base_env: dict[str, str]
    next_user: int = 1_000_001

    def users(self, count: int) -> list[int]:
        first, self.next_user = self.next_user, self.next_user + count + 10**5
        return list(range(first, first + count))

    def real(self, name: str, *, workers: int | None = None, webhook: bool = False) -> BotProcess:
        env = {
            **self.base_env, "BOT_TOKEN": DEFAULT_TOKEN, "DATABASE_URL": self.database_url,
            "DOCUMENTS_DIR": str(self.workdir / "documents"), "DATA_DIR": str(self.workdir),
            "DEFAULT_BATCH_DEADLINE": DEADLINE, "STAFF_TELEGRAM_IDS": "",
        }
        argv = [sys.executable, "-m", "innoeng", "bot"]
        if webhook:
            port = _free_port()
            env.update({"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                        "WEBHOOK_PORT": str(port), "WEBHOOK_HOST": "127.0.0.1", "REDIS_URL": REDIS_URL,
                        "WEBHOOK_MAX_CONNECTIONS": "40"})
        if workers and workers > 1:
            argv += ["--workers", str(workers)]
        if self.args.profile and not workers:
            argv = [sys.executable, "-c", _PROFILE_CPU, str(Path(self.args.profile).resolve()), "bot"]
        return BotProcess(argv, env, self.workdir / f"{name}.log")

    def echo(self, name: str, *, webhook: bool = False) -> BotProcess:
        env = {**self.base_env, "BOT_TOKEN": ECHO_TOKEN}
        if webhook:
            port = _free_port()
            env.update({"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                        "WEBHOOK_PORT": str(port)})
        return BotProcess([sys.executable, str(Path(__file__).resolve()), "--serve-echo"], env,
                          self.workdir / f"{name}.log")

    def counters(self) -> Callable[[], Awaitable[dict[str, int]]] | None:
        return (lambda: postgres_counters(self.database_url)) if self.args.db == "postgresql" else None


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _latency_ms(latencies: list[float]) -> dict[str, float]:
    return {f"p{q}_ms": round(_percentile(latencies, q) * 1000, 1) for q in (50, 95, 99)}


async def closed_loop(h: Harness) -> dict[str, Any]:
    args = h.args
    rounds: list[tuple[PhaseResult, PhaseResult, dict[str, Any]]] = []
    echo_users = iter(range(2_000_001, 3_000_000, args.users))
    # Rounds alternate the two bots: the machine's other load drifts, and one pair of runs can catch a bot on
    # a busy stretch (the echo bot's rate, bound by the harness, varied 610-1,104 answers/s between runs).
    for number in range(1, args.repeat + 1):
        real_people = SandboxClient(h.stand_in.base_url, DEFAULT_TOKEN, session=h.session)
        print(f"[bench] round {number}/{args.repeat}, real bot ({args.db}): {args.users} people filling in the "
              f"expert form at once", file=sys.stderr, flush=True)
        real_bot = h.real("bot")
        real = await run_phase("real bot", real_bot, real_people, h.users(args.users), lambda p: p.apply_as_expert(),
                               warmup_user=999_999 - number, db_counters=h.counters())
        _report_phase("real bot", real)
        real_errors = real_bot.errors()
        if real_errors:
            print(f"[bench] exceptions in the real bot's log: {real_errors}", file=sys.stderr, flush=True)
        echo_people = SandboxClient(h.stand_in.base_url, ECHO_TOKEN, session=h.session)
        kinds = real.kinds
        print(f"[bench] echo bot: {args.users} people, {len(kinds)} interactions each", file=sys.stderr, flush=True)
        first_echo_user = next(echo_users)
        echo = await run_phase("echo bot", h.echo("echo"), echo_people,
                               [first_echo_user + i for i in range(args.users)],
                               lambda p: p.replay(kinds), warmup_user=1_999_999 - number)
        _report_phase("echo bot", echo)
        rounds.append((real, echo, real_errors))
    per_round = [{"answers_per_s": round(r.interactions / r.wall_s, 1), "echo_per_s": round(e.interactions / e.wall_s, 1),
                  "ratio": round((r.interactions / r.wall_s) / (e.interactions / e.wall_s), 3),
                  "bot_cpu_ms_per_answer": _per_answer_ms(r.bot_cpu_s, r.interactions),
                  "echo_cpu_ms_per_answer": _per_answer_ms(e.bot_cpu_s, e.interactions)} for r, e, _ in rounds]
    # The round with the median ratio speaks for the run; every round is listed.
    real, echo, real_errors = rounds[sorted(range(len(rounds)), key=lambda i: per_round[i]["ratio"])[len(rounds) // 2]]
    answers_per_s = real.interactions / real.wall_s
    echo_per_s = echo.interactions / echo.wall_s
    return {
        "mode": "closed_loop",
        "users": args.users,
        "rounds": per_round,
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
        "bot_cpu_ms_per_answer": _per_answer_ms(real.bot_cpu_s, real.interactions),
        "echo_cpu_ms_per_answer": _per_answer_ms(echo.bot_cpu_s, echo.interactions),
        # % of one core during each phase; "other" is everything else on the machine (other users' jobs too)
        "cpu_pct": real.cpu_pct,
        "echo_cpu_pct": echo.cpu_pct,
        "machine_busy_pct": _round(real.machine_busy_pct),
        "echo_machine_busy_pct": _round(echo.machine_busy_pct),
        **_db_per_interaction(real),
        "cpus": os.cpu_count(),
        "profiled": bool(args.profile),
        "baseline": "bare aiogram echo bot (own process) over the same stand-in",
        "rss_of": "VmHWM of the `python -m innoeng bot` process; stand-in and simulated people run in the harness",
    }


def _per_answer_ms(cpu_s: float | None, interactions: int) -> float | None:
    return round(1000 * cpu_s / interactions, 2) if cpu_s is not None and interactions else None


def _db_per_interaction(result: PhaseResult) -> dict[str, float]:
    if not result.db or not result.interactions:
        return {}
    return {"db_commits_per_interaction": round(result.db["xact_commit"] / result.interactions, 1),
            "db_rollbacks_per_interaction": round(result.db["xact_rollback"] / result.interactions, 1),
            "db_rows_inserted_updated_per_interaction":
                round((result.db["tup_inserted"] + result.db["tup_updated"]) / result.interactions, 1)}


async def open_loop(h: Harness) -> dict[str, Any]:
    args = h.args
    rates = sorted({float(r) for r in (args.rates.split(",") if args.rates else
                                       (args.rate / 2, args.rate, args.rate * 1.5, args.rate * 2))} | {args.rate})
    kinds: list[str] = []
    figures: dict[str, dict[float, dict[str, Any]]] = {"real": {}, "echo": {}}
    for which in ("real", "echo"):
        for rate in rates:
            load = OpenLoop(rate=rate, think_s=args.think_s, duration_s=args.duration_s)
            if which == "real":
                people = SandboxClient(h.stand_in.base_url, DEFAULT_TOKEN, session=h.session)
                bot, act, warm = h.real(f"bot-open-{rate:g}"), (lambda p: p.apply_as_expert()), 999_999
            else:
                people = SandboxClient(h.stand_in.base_url, ECHO_TOKEN, session=h.session)
                bot, act, warm = h.echo(f"echo-open-{rate:g}"), (lambda p, k=tuple(kinds): p.replay(list(k))), 1_999_999
            print(f"[bench] open loop, {which} bot: {rate:g} answers/s offered for {args.duration_s:g} s "
                  f"({round(rate * args.think_s)} people pausing {args.think_s:g} s on average)",
                  file=sys.stderr, flush=True)
            result = await run_phase(f"{which} bot at {rate:g}/s", bot, people, h.users(1), act,
                                     warmup_user=warm - int(rate), load=load)
            if which == "real" and not kinds:
                kinds = result.kinds
            _report_phase(f"{which} bot at {rate:g}/s", result)
            figures[which][rate] = {
                "offered_per_s": rate, "served_per_s": round(result.interactions / load.duration_s, 1),
                **_latency_ms(result.latencies), "failed": len(result.failures),
                "bot_cpu_pct": _pct(result.bot_cpu_s, result.wall_s),
                "bot_cpu_ms_per_answer": _per_answer_ms(result.bot_cpu_s, result.interactions),
                "cpu_pct": result.cpu_pct,
            }

    def best(which: str) -> float | None:
        passing = [rate for rate, f in figures[which].items() if f["p95_ms"] < P95_TARGET_S * 1000 and not f["failed"]]
        return max(passing) if passing else None

    at = figures["real"][args.rate]
    echo_at = figures["echo"][args.rate]
    return {
        "mode": "open_loop", "db": args.db, "rate": args.rate, "think_s": args.think_s, "duration_s": args.duration_s,
        "p50_ms": at["p50_ms"], "p95_ms": at["p95_ms"], "p99_ms": at["p99_ms"], "served_per_s": at["served_per_s"],
        "echo_p50_ms": echo_at["p50_ms"], "echo_p95_ms": echo_at["p95_ms"], "echo_p99_ms": echo_at["p99_ms"],
        "p95_target_ms": P95_TARGET_S * 1000,
        "highest_rate_p95_under_target": best("real"), "echo_highest_rate_p95_under_target": best("echo"),
        "rates_tried": rates,
        "sweep": {which: {f"{rate:g}": f for rate, f in per.items()} for which, per in figures.items()},
        "cpus": os.cpu_count(),
        "baseline": "bare aiogram echo bot (own process), same stand-in, same arrivals and pauses",
    }


async def scale_out(h: Harness) -> dict[str, Any]:
    args = h.args
    if not args.redis:
        raise SystemExit("--workers needs --redis (several bot processes share dialog state in Redis)")
    counts = sorted({1, args.workers})
    per: dict[int, dict[str, Any]] = {}
    kinds: list[str] = []
    people = SandboxClient(h.stand_in.base_url, DEFAULT_TOKEN, session=h.session)
    for count in counts:
        print(f"[bench] scale-out: `innoeng bot --workers {count}` (webhook, PostgreSQL, Redis), {args.users} people",
              file=sys.stderr, flush=True)
        result = await run_phase(f"{count} workers", h.real(f"bot-workers-{count}", workers=count, webhook=True),
                                 people, h.users(args.users), lambda p: p.apply_as_expert(),
                                 warmup_user=999_000 + count, db_counters=h.counters())
        _report_phase(f"{count} workers", result)
        kinds = kinds or result.kinds
        per[count] = _scale_figures(result)
    echo_people = SandboxClient(h.stand_in.base_url, ECHO_TOKEN, session=h.session)
    print("[bench] scale-out baseline: the echo bot in webhook mode, one process", file=sys.stderr, flush=True)
    echo = await run_phase("echo webhook", h.echo("echo-webhook", webhook=True), echo_people,
                           h.users(args.users), lambda p: p.replay(kinds), warmup_user=1_999_998)
    _report_phase("echo webhook", echo)
    echo_figures = _scale_figures(echo)
    top = per[max(counts)]
    service_ms = top["service_cpu_ms_per_answer"]
    return {
        "mode": "scale_out", "db": args.db, "users": args.users, "redis": True,
        **{f"answers_per_s_workers_{count}": f["answers_per_s"] for count, f in per.items()},
        "echo_per_s": echo_figures["answers_per_s"],
        "workers": {str(count): f for count, f in per.items()},
        "echo": echo_figures,
        # bots + PostgreSQL + Redis, not the harness (its stand-in plays Telegram, its people the users)
        "service_cpu_ms_per_answer": service_ms,
        "cores_for_1000_answers_per_s": round(service_ms, 1) if service_ms is not None else None,
        "cores_for_1000_answers_per_s_bots_only": top["bot_cpu_ms_per_answer"],
        "cpus": os.cpu_count(),
        "baseline": "bare aiogram echo bot, webhook mode, one process, same stand-in",
    }


def _scale_figures(result: PhaseResult) -> dict[str, Any]:
    seconds = {k: v * result.wall_s / 100 for k, v in result.cpu_pct.items()}
    answers = result.interactions or 1
    service = seconds.get("bot", 0) + seconds.get("postgres", 0) + seconds.get("redis", 0)
    return {
        "answers_per_s": round(result.interactions / result.wall_s, 1), **_latency_ms(result.latencies),
        "completed": result.completed, "failed": len(result.failures),
        "cpu_pct": result.cpu_pct,
        "bot_cpu_ms_per_answer": round(1000 * seconds.get("bot", 0) / answers, 2),
        "postgres_cpu_ms_per_answer": round(1000 * seconds.get("postgres", 0) / answers, 2),
        "redis_cpu_ms_per_answer": round(1000 * seconds.get("redis", 0) / answers, 2),
        "harness_cpu_ms_per_answer": round(1000 * seconds.get("harness", 0) / answers, 2),
        "service_cpu_ms_per_answer": round(1000 * service / answers, 2),
        "peak_rss_mb_per_process": round(result.rss_mb, 1) if result.rss_mb is not None else None,
        **_db_per_interaction(result),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    _raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="innoeng-bench-"))
    try:
        async with throwaway_database(args.db, workdir) as database_url:
            if args.redis:
                await _flush_redis()
            stand_in = await SandboxServer("127.0.0.1", 0, tokens=(DEFAULT_TOKEN, ECHO_TOKEN)).start()
            # No connection cap: every person has a long poll open while others act.
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, limit_per_host=0))
            try:
                base_env = {k: v for k, v in os.environ.items()
                            if k not in ("REDIS_URL", "BOT_WORKERS") and not k.startswith("WEBHOOK_")}
                base_env.update({"BOT_API_URL": stand_in.base_url, "PYTHONUNBUFFERED": "1"})
                h = Harness(args, workdir, database_url, stand_in, session, base_env)
                if args.workers:
                    result = await scale_out(h)
                elif args.rate:
                    result = await open_loop(h)
                else:
                    result = await closed_loop(h)
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
    return result


async def _flush_redis() -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


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
    parser.add_argument("--rate", type=float, help="open loop: answers/s offered (people arriving at random)")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="closed loop: K rounds, the two bots alternating; the median round is reported")
    parser.add_argument("--rates", help="open loop: comma-separated rates to sweep (default R/2, R, 1.5R, 2R)")
    parser.add_argument("--think-s", type=float, default=2.0, help="open loop: mean pause before each action")
    parser.add_argument("--duration-s", type=float, default=20.0, help="open loop: seconds per rate")
    parser.add_argument("--workers", type=int, help="scale-out: webhook mode, `innoeng bot --workers k`, k = 1 and N")
    parser.add_argument("--redis", action="store_true", help=f"scale-out: REDIS_URL={REDIS_URL} (flushed first)")
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
